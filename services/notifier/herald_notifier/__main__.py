from herald_notifier.app import main

main()
