/* claims.c - SK-Tuning's four headline claims (sk-tuning.md) judged from what each method
 * reached: one set of rules for `sktune compare` (scripts/compare.lua, through sk.claims)
 * and the workbench's compare view. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sk_train.h"

static void say(SkClaims *c, int n, const char *what, int holds, const char *why) {
    c->holds[n - 1] = holds;
    snprintf(c->text[n - 1], sizeof c->text[n - 1], "claim %d: %s: %s (%s)", n, what,
             holds < 0 ? "not tested" : holds ? "TRUE" : "FALSE", why);
}

static void steps_text(char *buf, size_t cap, double steps) {
    if (steps >= 0) snprintf(buf, cap, "%.0f", steps);
    else snprintf(buf, cap, "not reached");
}

void sk_claims_judge(const SkMethodResult *sk, const SkMethodResult *prefix, const SkMethodResult *prompt,
                     SkClaims *out) {
    static const char *what[4] = {"fewer trainable parameters than prefix tuning", "faster convergence than prefix tuning",
                                  "equal or better final accuracy than prefix and prompt tuning",
                                  "faster wall-clock per step than prefix tuning"};
    memset(out, 0, sizeof *out);
    bool have_sk = sk && sk->present, have_pre = prefix && prefix->present, have_pro = prompt && prompt->present;
    char why[256], a[32], b[32];
    if (have_sk && have_pre) {
        snprintf(why, sizeof why, "%.0f vs %.0f", sk->params, prefix->params);
        say(out, 1, what[0], sk->params < prefix->params, why);
        steps_text(a, sizeof a, sk->steps_to_target), steps_text(b, sizeof b, prefix->steps_to_target);
        snprintf(why, sizeof why, "steps to target %s vs %s", a, b);
        say(out, 2, what[1], sk->steps_to_target >= 0 && (prefix->steps_to_target < 0 ||
                                                          sk->steps_to_target < prefix->steps_to_target), why);
        snprintf(why, sizeof why, "%.0f vs %.0f ms/step", sk->ms_per_step, prefix->ms_per_step);
        say(out, 4, what[3], sk->ms_per_step < prefix->ms_per_step, why);
    } else {
        say(out, 1, what[0], -1, "needs sk_prefix and prefix_tuning");
        say(out, 2, what[1], -1, "needs sk_prefix and prefix_tuning");
        say(out, 4, what[3], -1, "needs sk_prefix and prefix_tuning");
    }
    if (have_sk && (have_pre || have_pro)) {
        bool holds = true;
        int n = snprintf(why, sizeof why, "sk_prefix %.3f vs", sk->accuracy);
        const SkMethodResult *others[2] = {have_pre ? prefix : NULL, have_pro ? prompt : NULL};
        const char *names[2] = {"prefix_tuning", "prompt_tuning"};
        bool first = true;
        for (int k = 0; k < 2; k++) {
            if (!others[k]) continue;
            holds = holds && sk->accuracy >= others[k]->accuracy - SK_CLAIM_EQUAL;
            n += snprintf(why + n, sizeof why - (size_t)n, "%s %s %.3f", first ? "" : ",", names[k], others[k]->accuracy);
            first = false;
        }
        snprintf(why + n, sizeof why - (size_t)n, "; %.3f counts as equal", SK_CLAIM_EQUAL);
        say(out, 3, what[2], holds, why);
    } else {
        say(out, 3, what[2], -1, "needs sk_prefix and prefix_tuning or prompt_tuning");
    }
}
