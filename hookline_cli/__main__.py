from hookline_cli.main import main

main()
