import { useEffect, useState } from "react";

import type { Api } from "../../api";
import type { Department } from "../../types";

export function useDepartments(api: Api): Department[] {
  const [departments, setDepartments] = useState<Department[]>([]);
  useEffect(() => {
    api
      .get<{ items: Department[] }>("/v1/departments")
      .then((answer) => setDepartments(answer.items))
      .catch(() => setDepartments([]));
  }, [api]);
  return departments;
}
