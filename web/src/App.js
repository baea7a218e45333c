import { jsx as _jsx } from "react/jsx-runtime";
// The page: signing in, or the workspace of whoever is signed in.
import { SignInView } from "./features/auth/SignInView";
import { useSession } from "./features/auth/useSession";
import { Workspace } from "./workspace/Workspace";
export function App() {
    const { session, restoring, notice, signedIn, expired, signOut } = useSession();
    if (restoring) {
        return (_jsx("main", { className: "centered", "aria-busy": "true", children: _jsx("p", { children: "Signing you in\u2026" }) }));
    }
    if (session === null) {
        return _jsx(SignInView, { notice: notice, onSignedIn: signedIn, onExpired: expired });
    }
    return (
    // Another person or other roles start from nothing: no inbox or stream carries over.
    _jsx(Workspace, { session: session, onSignOut: signOut }, `${session.identity.employeeId}/${session.roles.join(",")}`));
}
