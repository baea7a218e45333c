import { useEffect, useState } from "react";
export function useDepartments(api) {
    const [departments, setDepartments] = useState([]);
    useEffect(() => {
        api
            .get("/v1/departments")
            .then((answer) => setDepartments(answer.items))
            .catch(() => setDepartments([]));
    }, [api]);
    return departments;
}
