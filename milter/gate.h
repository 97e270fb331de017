/* gate.h — admission to end-of-message conversion (issue 16): the
 * messages converted at once weigh at most ConversionBudget together, a
 * message's weight being its size plus a fixed share for what every
 * conversion holds whatever its size (GMime parser, filters, cipher
 * contexts, a deep stack). A message that does not fit waits its turn
 * (first come, first served, so a large one is not starved by a stream of
 * small ones), at most ConversionWait; then it is tempfailed, never
 * accepted unconverted. This is what bounds the milter's memory when many
 * large messages end together: without it every session converts at once
 * (measured: 130 of 200 concurrent 10 MB messages in conversion at the
 * peak). docs/performance.md "Issue 16, fourth pass: memory". */
#ifndef TZM_GATE_H
#define TZM_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What every conversion holds besides its message (measured, see above). */
#define TZM_GATE_OVERHEAD (256u * 1024)

/* The weight of a message of `bytes` under `budget`: bytes + the overhead,
 * at most the whole budget (a message larger than it converts alone). 0
 * when budget is 0 (no gate). */
size_t tzm_gate_weight(size_t budget, uint64_t bytes);

/* Wait until `weight` fits under `budget` and every earlier waiter is in;
 * progress(ctx) is called (without the gate's lock) every few seconds of
 * waiting, so the MTA does not time the milter out. 0: admitted (call
 * tzm_gate_leave with the same weight); -1: not within wait_ms. *waited_ms
 * receives the time spent waiting. weight 0 is admitted at once. */
int tzm_gate_enter(size_t budget, size_t weight, unsigned wait_ms,
		   void (*progress)(void *ctx), void *ctx, unsigned *waited_ms);
void tzm_gate_leave(size_t weight);

/* For tests and the stats: weight admitted now, conversions in now, the
 * most conversions that were in at once, and how many wait. */
struct tzm_gate_state {
	size_t in_use;
	unsigned running, running_max, waiting;
};
void tzm_gate_state(struct tzm_gate_state *out);

#endif
