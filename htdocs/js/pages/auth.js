// Public pages: login, first-run setup and accepting an invite.
import { h, fill } from "../dom.js";
import { post } from "../api.js";
import { session } from "../session.js";
import { page, go, safeNext } from "../router.js";
import { field, errorBox, progress } from "../ui.js";

function authCard(ctx, title, intro, inputs, submitLabel, submit) {
  const status = h("div", { class: "form-status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "primary" }, submitLabel);
  const form = h(
    "form",
    {
      class: "form login-card",
      novalidate: true,
      on: {
        submit: async (ev) => {
          ev.preventDefault();
          button.disabled = true;
          fill(status, progress("Please wait"));
          try {
            await submit(form);
          } catch (err) {
            if (ctx.alive()) fill(status, errorBox(err));
          } finally {
            button.disabled = false;
          }
        },
      },
    },
    h("h1", null, title),
    intro ? h("p", { class: "muted" }, intro) : null,
    inputs,
    h("div", { class: "actions" }, button),
    status
  );
  fill(ctx.view, form);
  const first = form.querySelector("input");
  if (first) first.focus();
  return form;
}

const email = () => h("input", { type: "email", name: "email", autocomplete: "username", required: true });
const password = (name = "password", ac = "current-password") =>
  h("input", { type: "password", name, autocomplete: ac, required: true });

async function afterLogin(answer, next) {
  session.adopt(answer);
  await session.refresh();
  go(safeNext(next));
}

function checkConfirm(form) {
  if (form.password.value !== form.confirm.value) throw new Error("The two passwords differ.");
}

page({
  path: "/login",
  title: "Log in",
  role: "public",
  render(ctx) {
    if (session.authenticated) return go(safeNext(ctx.query.get("next")));
    authCard(ctx, "Log in", null, [field("E-mail", email()), field("Password", password())], "Log in", async (form) => {
      const answer = await post("/api/auth/login", { email: form.email.value, password: form.password.value }, { quiet401: true });
      await afterLogin(answer, ctx.query.get("next"));
    });
    if (session.me && session.me.registration_enabled)
      ctx.view.append(h("p", { class: "muted" }, "Self-registration is enabled on this server."));
  },
});

page({
  path: "/setup",
  title: "First-run setup",
  role: "public",
  render(ctx) {
    if (!session.me.needs_setup) {
      fill(ctx.view, h("div", { class: "card login-card" }, h("h1", null, "Setup is complete"), h("p", null, "An administrator already exists. ", h("a", { href: "#/login" }, "Log in"), ".")));
      return;
    }
    authCard(
      ctx,
      "Create the first administrator",
      "No user exists yet. The account you create here becomes the administrator.",
      [field("E-mail", email()), field("Password", password("password", "new-password"), "At least 8 characters."), field("Confirm password", password("confirm", "new-password"))],
      "Create administrator",
      async (form) => {
        checkConfirm(form);
        const answer = await post("/api/auth/setup", { email: form.email.value, password: form.password.value });
        await afterLogin(answer, "/");
      }
    );
  },
});

page({
  path: "/invite",
  title: "Accept invite",
  role: "public",
  render(ctx) {
    const token = ctx.query.get("token") || "";
    if (!token) {
      fill(ctx.view, h("div", { class: "card login-card" }, h("h1", null, "Accept invite"), errorBox(new Error("This invite link has no token. Ask your administrator for a new link."))));
      return;
    }
    authCard(
      ctx,
      "Accept invite",
      "Choose a password to activate your account.",
      [field("Password", password("password", "new-password"), "At least 8 characters."), field("Confirm password", password("confirm", "new-password"))],
      "Activate account",
      async (form) => {
        checkConfirm(form);
        const answer = await post("/api/auth/accept-invite", { token, password: form.password.value }, { quiet401: true });
        await afterLogin(answer, "/");
      }
    );
  },
});
