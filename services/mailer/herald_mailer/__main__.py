from herald_mailer.app import main

main()
