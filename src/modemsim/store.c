/* The SIM's message memory ("SM", TS 27.005 §3.2.2): STORE_SLOTS slots of PDUs with their
 * status. */
#include "modemsim/sim.h"

#include <errno.h>
#include <string.h>

int store_put(struct sim *sim, enum store_stat stat, const char *pdu, size_t tpdu_len)
{
	for (size_t i = 0; i < STORE_SLOTS; i++) {
		struct store_slot *s = &sim->store[i];

		if (s->used)
			continue;
		if (strlen(pdu) >= sizeof(s->pdu))
			return -EINVAL;
		s->used = true;
		s->stat = stat;
		s->tpdu_len = tpdu_len;
		strcpy(s->pdu, pdu);
		return (int)i + 1;
	}
	return -ENOSPC;
}

int store_used(const struct sim *sim)
{
	int n = 0;

	for (size_t i = 0; i < STORE_SLOTS; i++)
		n += sim->store[i].used;
	return n;
}
