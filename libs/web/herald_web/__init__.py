"""HTTP pieces shared by Herald's FastAPI services."""
