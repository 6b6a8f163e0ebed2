-- Reserved for the board-follow branch, whose 0007_board_following.sql replaces this file
-- when the branches merge (migrations are numbered 1..N without gaps, see db.py).
SELECT 1;
