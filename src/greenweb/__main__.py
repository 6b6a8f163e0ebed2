from greenweb.cli import main

raise SystemExit(main())
