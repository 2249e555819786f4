/* What a VP writes to its power files (src/devices/power_locks.c, power_policy.c): lines
 * for /sys/power/wake_lock and wake_unlock, requests for /sys/power/state, brightness
 * levels, interleaved with the clock passing, lock timeouts expiring, switches and the
 * root's own locks, as the power device feeds them to the suspend recorder.
 *
 * Input: records of a 3-byte header (the operation, milliseconds that pass, the text's
 * length) and that many bytes of text (what one write(2) carried).
 *
 * Checked after each record: the table holds at most POWER_LOCKS_MAX locks and never two
 * of one name, every name is a valid one (1 to POWER_LOCK_NAME_MAX bytes, no white space
 * or control character); a lock taken is listed, a lock released is not; once expired,
 * no active lock's timeout has passed; a listing fits its buffer and ends with a newline;
 * a level parsed is within its maximum; the recorder is never suspended with a request
 * pending, suspends only on a foreground request or a counted lock's release, and never
 * on a background VP's request. */
#include "devices/power_locks.h"
#include "devices/power_policy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { OP_TAKE, OP_RELEASE, OP_STATE_FG, OP_STATE_BG, OP_LEVEL, OP_SWITCH, OP_ROOT, OP_COUNT };

#define MS 1000000ull

static void check_locks(const struct power_locks *l, uint64_t now, bool expired)
{
	char buf[64];
	size_t n;

	if (l->n > POWER_LOCKS_MAX || power_locks_active(l) > l->n)
		abort();
	for (unsigned i = 0; i < l->n; i++) {
		size_t len = strnlen(l->lock[i].name, sizeof(l->lock[i].name));
		if (len == 0 || len > POWER_LOCK_NAME_MAX)
			abort();
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)l->lock[i].name[k] <= ' ' || l->lock[i].name[k] == 0x7f)
				abort();
		for (unsigned j = i + 1; j < l->n; j++)
			if (strcmp(l->lock[i].name, l->lock[j].name) == 0)
				abort();
		if (expired && l->lock[i].active && l->lock[i].expires && l->lock[i].expires <= now)
			abort();
	}
	n = power_locks_show(l, true, buf, sizeof(buf));
	if (n == 0 || n >= sizeof(buf) || buf[n - 1] != '\n' || buf[n] != '\0')
		abort();
}

static bool listed(const struct power_locks *l, const char *name, bool active)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->lock[i].name, name) == 0)
			return l->lock[i].active == active;
	return !active;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct power_locks fg, root;
	static struct power_recorder rec;
	char name[POWER_LOCK_NAME_MAX + 1];
	uint64_t now = 1, timeout;
	size_t pos = 0;

	memset(&fg, 0, sizeof(fg));
	memset(&root, 0, sizeof(root));
	memset(&rec, 0, sizeof(rec));
	while (pos + 3 <= size) {
		unsigned op = data[pos] % OP_COUNT, len = data[pos + 2];
		const char *text = (const char *)data + pos + 3;
		unsigned long long before = rec.suspends;
		enum power_change c = POWER_NO_CHANGE;
		enum power_request req;
		enum power_verdict verdict;
		unsigned level, max = 1 + data[pos + 1];
		int ret;

		now += data[pos + 1] * MS;
		if (pos + 3 + len > size)
			len = (unsigned)(size - pos - 3);
		pos += 3 + len;
		if (power_locks_expire(&fg, now) + power_locks_expire(&root, now) &&
		    power_rec_locks(&rec, false,
				    power_locks_active(&fg) + power_locks_active(&root)) ==
			    POWER_SUSPENDED &&
		    rec.suspends != before + 1)
			abort();
		before = rec.suspends;
		check_locks(&fg, now, true);
		switch (op) {
		case OP_TAKE:
		case OP_ROOT:
			ret = power_locks_take(op == OP_TAKE ? &fg : &root, text, len, now);
			if (ret == 0) {
				if (power_lock_parse(text, len, true, name, &timeout) < 0 ||
				    !listed(op == OP_TAKE ? &fg : &root, name, true))
					abort();
				c = power_rec_locks(&rec, true, 1);
			} else if (ret != -EINVAL && ret != -ENOSPC) {
				abort();
			}
			break;
		case OP_RELEASE:
			ret = power_locks_release(&fg, text, len, now);
			if (ret == 0) {
				if (power_lock_parse(text, len, false, name, &timeout) < 0 ||
				    !listed(&fg, name, false))
					abort();
				c = power_rec_locks(&rec, false,
						    power_locks_active(&fg) +
							    power_locks_active(&root));
			} else if (ret != -EINVAL) {
				abort();
			}
			break;
		case OP_STATE_FG:
		case OP_STATE_BG:
			if (power_parse_state(text, len, &req) < 0)
				break;
			c = power_rec_request(&rec, "vp", op == OP_STATE_FG,
					      power_locks_active(&fg), power_locks_active(&root),
					      req, &verdict);
			if (op == OP_STATE_BG && (verdict != POWER_IGNORED || c == POWER_SUSPENDED))
				abort();
			if (c == POWER_SUSPENDED &&
			    (power_locks_active(&fg) || power_locks_active(&root)))
				abort();
			break;
		case OP_LEVEL:
			if (power_parse_level(text, len, max, &level) == 0 && level > max)
				abort();
			break;
		case OP_SWITCH:
			power_rec_leave(&rec, "vp");
			c = power_rec_switch(&rec);
			break;
		}
		check_locks(&fg, now, false);
		check_locks(&root, now, false);
		if (rec.suspended && rec.pending)
			abort();
		if ((c == POWER_SUSPENDED) != (rec.suspends == before + 1))
			abort();
	}
	return 0;
}
