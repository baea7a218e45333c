from herald_gateway.app import serve

serve()
