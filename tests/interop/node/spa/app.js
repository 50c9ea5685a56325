// The app: every page is index.html; the path says where we are.
//   /            sign in (signinRedirect)
//   /callback    the authorization response (signinCallback): the profile; in the hidden
//                iframe of a silent sign-in, the answer goes to the app in the parent
//   /signed-out  back from the provider's end-session endpoint
// What happened is shown in #status, the user in #user (JSON), any error in #error, which
// the test reads.
"use strict";

const origin = window.location.origin;
const manager = new oidc.UserManager({
  authority: window.SPA_CONFIG.authority,
  client_id: window.SPA_CONFIG.client_id,
  redirect_uri: `${origin}/callback`,
  silent_redirect_uri: `${origin}/callback`,
  post_logout_redirect_uri: `${origin}/signed-out`,
  response_type: "code",
  scope: window.SPA_CONFIG.scope,
  loadUserInfo: true,
  automaticSilentRenew: false,
  monitorSession: false,
  revokeTokensOnSignout: true,
  userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
});

function show(status, user) {
  if (user !== undefined) {
    document.getElementById("user").textContent = JSON.stringify(
      user && {
        profile: user.profile,
        id_token: user.id_token,
        access_token: user.access_token,
        refresh_token: user.refresh_token,
        scope: user.scope,
        expires_at: user.expires_at,
      },
    );
  }
  document.getElementById("status").textContent = status;
}

async function act(name, action) {
  try {
    await action();
  } catch (error) {
    document.getElementById("error").textContent = `${name}: ${error}`;
    show(`${name} failed`);
    console.error(`${name} failed`, error);
  }
}

document.getElementById("sign-in").addEventListener("click", () =>
  act("sign in", () => manager.signinRedirect()),
);
document.getElementById("unregistered").addEventListener("click", () =>
  act("sign in", () => manager.signinRedirect({ redirect_uri: `${origin}/not-registered` })),
);
document.getElementById("silent").addEventListener("click", () =>
  act("silent sign-in", async () => show("signed in silently", await manager.signinSilent())),
);
document.getElementById("refresh").addEventListener("click", () =>
  act("refresh", async () => show("refreshed", await manager.signinSilent())),
);
document.getElementById("sign-out").addEventListener("click", () =>
  act("sign out", () => manager.signoutRedirect()),
);

act("start", async () => {
  if (window.location.pathname === "/callback" && window.parent !== window) {
    await manager.signinCallback(); // a silent sign-in's iframe: tells the parent
  } else if (window.location.pathname === "/callback") {
    show("signed in", await manager.signinCallback());
  } else if (window.location.pathname === "/signed-out") {
    await manager.signoutRedirectCallback();
    show("signed out", await manager.getUser());
  } else {
    show("ready", await manager.getUser());
  }
});
