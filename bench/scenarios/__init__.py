"""One module per scenario; each has `async def run(run, config) -> dict` of its figures."""
