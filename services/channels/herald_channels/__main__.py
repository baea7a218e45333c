from herald_channels.app import main

main()
