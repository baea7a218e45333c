"""Dependency aliases shared by the allocation routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from herald_allocation.runtime import AllocationRuntime, get_runtime
from herald_common.auth.principal import HR_ADMIN, MANAGER, Principal
from herald_web.auth import requires

Runtime = Annotated[AllocationRuntime, Depends(get_runtime)]
HrAdmin = Annotated[Principal, Depends(requires(HR_ADMIN))]
ManagerOrHr = Annotated[Principal, Depends(requires(MANAGER, HR_ADMIN))]
