from herald_allocation.app import serve

serve()
