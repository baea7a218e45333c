from herald_inserter.app import main

main()
