/* Input events as the input tests write them, {type, code, value}, and the check of those
 * read or routed against them. Included after cmocka.h. */
#ifndef CELLS_TESTS_INPUT_EVENTS_H
#define CELLS_TESTS_INPUT_EVENTS_H

#include <linux/input.h>

struct ev {
	unsigned type, code;
	int value;
};

#define SYN                                                                                        \
	{                                                                                          \
		EV_SYN, SYN_REPORT, 0                                                              \
	}

/* GOT (N events) is exactly WANT (NWANT events); WHAT names them in a failure. */
static inline void expect_events(const char *what, const struct input_event *got, unsigned n,
				 const struct ev *want, unsigned nwant)
{
	for (unsigned i = 0; i < n && i < nwant; i++)
		if (got[i].type != want[i].type || got[i].code != want[i].code ||
		    got[i].value != want[i].value)
			fail_msg("%s, event %u: got %u/%u/%d, wanted %u/%u/%d", what, i,
				 got[i].type, got[i].code, got[i].value, want[i].type, want[i].code,
				 want[i].value);
	if (n != nwant)
		fail_msg("%s: %u events, wanted %u", what, n, nwant);
}

#endif
