// The disqualification-code picker that `panel.validateTransition()` opens when sopd says the
// status change needs a code: a modal <dialog> (focus moves in and stays, Escape cancels) with
// one radio button per allowed code (label, code, description), Confirm and Cancel. Confirm
// asks sopd again with the code (`confirm`), so the save goes ahead only with a code it allows.
import { h } from "./dom.js";
import type { DisqualificationCodeJson } from "./gen/sopsidebar/v1/sop_pb.js";

export interface PickerOptions {
  /** The status about to be saved, as the rep chose it. */
  newStatus: string;
  /** In the SOP's order. */
  codes: DisqualificationCodeJson[];
  /** Checks the chosen code with the server: "" when it may be saved, else why not. May reject. */
  confirm: (code: string) => Promise<string>;
}

let pickerSeq = 0;

/**
 * Shows the picker in `root` (the panel's shadow root); resolves to the confirmed code, or
 * null when the rep cancels (Cancel, Escape) or `abort` fires.
 */
export function pickCode(root: ShadowRoot, opts: PickerOptions, abort?: AbortSignal): Promise<DisqualificationCodeJson | null> {
  const n = ++pickerSeq;
  const id = (s: string) => `code-picker-${n}-${s}`;
  const dialog = h("dialog", { class: "code-picker", attrs: { "aria-labelledby": id("title"), "aria-describedby": id("desc") } });
  const form = h("form", { attrs: { novalidate: "" } });
  const fieldset = h("fieldset", {}, h("legend", { text: "Disqualification code" }));
  opts.codes.forEach((c, i) => {
    const input = h("input", { attrs: { type: "radio", name: id("code"), value: c.code ?? "", id: id(`c${i}`) } });
    const descId = id(`d${i}`);
    if (c.description) input.setAttribute("aria-describedby", descId);
    fieldset.append(
      h(
        "div",
        { class: "code-option" },
        input,
        h("label", { attrs: { for: id(`c${i}`) } }, h("span", { class: "code-label", text: c.label || c.code || "" }), " ", h("code", { text: c.code ?? "" })),
        c.description ? h("p", { class: "code-desc", text: c.description, attrs: { id: descId } }) : null,
      ),
    );
  });
  const error = h("p", { class: "picker-error", attrs: { role: "alert" } });
  const confirm = h("button", { class: "primary", text: "Confirm and save", attrs: { type: "submit" } });
  const cancel = h("button", { text: "Cancel", attrs: { type: "button" } });
  form.append(
    h("h2", { text: "Choose a disqualification code", attrs: { id: id("title") } }),
    h("p", { text: `Saving the status “${opts.newStatus}” needs a disqualification code: say why this lead goes back.`, attrs: { id: id("desc") } }),
    fieldset,
    error,
    h("div", { class: "picker-buttons" }, confirm, cancel),
  );
  dialog.append(form);
  root.append(dialog);

  return new Promise((resolve) => {
    let settled = false;
    const finish = (picked: DisqualificationCodeJson | null) => {
      if (settled) return;
      settled = true;
      abort?.removeEventListener("abort", onAbort);
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(picked);
    };
    const onAbort = () => finish(null);
    abort?.addEventListener("abort", onAbort, { once: true });
    // Escape: the dialog's cancel event.
    dialog.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      finish(null);
    });
    cancel.addEventListener("click", () => finish(null));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const chosen = form.querySelector<HTMLInputElement>("input[type=radio]:checked");
      if (!chosen) {
        error.textContent = "Choose a code first.";
        form.querySelector<HTMLInputElement>("input[type=radio]")?.focus();
        return;
      }
      const code = opts.codes.find((c) => (c.code ?? "") === chosen.value);
      if (!code) return;
      confirm.disabled = true;
      form.setAttribute("aria-busy", "true");
      error.textContent = "";
      opts.confirm(chosen.value).then(
        (refusal) => {
          confirm.disabled = false;
          form.setAttribute("aria-busy", "false");
          if (refusal) error.textContent = refusal;
          else finish(code);
        },
        (e: unknown) => {
          confirm.disabled = false;
          form.setAttribute("aria-busy", "false");
          error.textContent = `Couldn't check the code — ${e instanceof Error ? e.message : String(e)}. Try again or cancel.`;
        },
      );
    });
    if (abort?.aborted) return finish(null);
    dialog.showModal();
    form.querySelector<HTMLInputElement>("input[type=radio]")?.focus();
  });
}
