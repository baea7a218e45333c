from herald_gateway.app import main

main()
