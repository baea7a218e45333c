"""/v1/preferences: the caller's notification preferences (which emails they get)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict

from herald_mailer.api.identity import CurrentEmployee
from herald_mailer.domain.preferences import EMAIL_KINDS
from herald_mailer.runtime import MailerRuntime, get_runtime
from herald_web.errors import error_responses

router = APIRouter(prefix="/v1/preferences", tags=["preferences"])

Runtime = Annotated[MailerRuntime, Depends(get_runtime)]


class Preferences(BaseModel):
    employee_id: str
    # Notification kind -> whether it is also sent by email. In-app is always on.
    email: dict[str, bool]


class EmailChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool


@router.get("", response_model=Preferences, responses=error_responses(401, 403, 404))
async def get_preferences(employee_id: CurrentEmployee, runtime: Runtime) -> Preferences:
    return Preferences(employee_id=employee_id, email=await runtime.preferences.email(employee_id))


@router.put(
    "/email/{kind}", response_model=Preferences, responses=error_responses(400, 401, 403, 404)
)
async def set_email_preference(
    kind: str, choice: EmailChoice, employee_id: CurrentEmployee, runtime: Runtime
) -> Preferences:
    if kind not in EMAIL_KINDS:
        raise HTTPException(
            404, f"no email is sent for {kind!r}; email kinds: {', '.join(EMAIL_KINDS)}"
        )
    await runtime.preferences.set_email(employee_id, kind, choice.enabled)
    return Preferences(employee_id=employee_id, email=await runtime.preferences.email(employee_id))
