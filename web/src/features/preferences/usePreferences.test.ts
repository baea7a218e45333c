// @vitest-environment jsdom
import { act, cleanup, renderHook } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";

import { FakeApi } from "../../test/fakeApi";
import { usePreferences } from "./usePreferences";

const SUMMARY = "herald.allocation.summary";

const PUT = "/v1/preferences/email/herald.allocation.summary";

function setup() {
  const server = new FakeApi();
  const hook = renderHook(() => usePreferences(server.api));
  const loaded = () =>
    act(() => server.answer("/v1/preferences", { employee_id: "E1", email: { [SUMMARY]: true } }));
  // Starts saving `enabled`; resolves once the hook has taken the answer given meanwhile.
  const save = (enabled: boolean) => {
    let done: Promise<void> = Promise.resolve();
    act(() => {
      done = hook.result.current.setEmail(SUMMARY, enabled);
    });
    return () => done;
  };
  return { server, loaded, save, ...hook };
}

afterEach(cleanup);

describe("usePreferences", () => {
  it("loads the email settings", async () => {
    const { server, loaded, result } = setup();
    expect(server.open("/v1/preferences")).toHaveLength(1);
    await loaded();
    expect(result.current).toMatchObject({ email: { [SUMMARY]: true }, error: null });
  });

  it("saves one setting and shows what the server kept", async () => {
    const { server, loaded, save, result } = setup();
    await loaded();
    const done = save(false);
    expect(result.current.saving).toBe(SUMMARY);
    expect(server.open(PUT)[0]).toMatchObject({ method: "PUT", body: { enabled: false } });
    await act(async () => {
      await server.answer(PUT, { employee_id: "E1", email: { [SUMMARY]: false } });
      await done();
    });
    expect(result.current).toMatchObject({ email: { [SUMMARY]: false }, saving: null, saved: SUMMARY });
  });

  it("says why a setting could not be saved, and keeps the old one", async () => {
    const { server, loaded, save, result } = setup();
    await loaded();
    const done = save(false);
    await act(async () => {
      await server.fail(PUT, new Error("the server answered 503"));
      await done();
    });
    expect(result.current).toMatchObject({
      email: { [SUMMARY]: true },
      error: "the server answered 503",
      saving: null,
      saved: null,
    });
  });

  it("says why the settings could not load", async () => {
    const { server, result } = setup();
    await act(() => server.fail("/v1/preferences", new Error("the server answered 502")));
    expect(result.current).toMatchObject({ email: null, error: "the server answered 502" });
  });
});
