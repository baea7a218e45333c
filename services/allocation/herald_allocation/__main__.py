from herald_allocation.app import main

main()
