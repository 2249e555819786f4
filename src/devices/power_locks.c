/* A VP's wake locks (power_locks.h). */
#include "devices/power_locks.h"

#include <errno.h>
#include <string.h>

int power_lock_parse(const char *buf, size_t len, bool timeout_allowed, char *name,
		     uint64_t *timeout)
{
	size_t i = 0, n;

	*timeout = 0;
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	while (i < len && buf[i] != ' ' && buf[i] != '\t')
		i++;
	n = i;
	if (n == 0 || n > POWER_LOCK_NAME_MAX)
		return -EINVAL;
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)buf[k] < 0x20 || buf[k] == 0x7f)
			return -EINVAL;
	memcpy(name, buf, n);
	name[n] = '\0';
	while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
		i++;
	if (i == len)
		return 0;
	if (!timeout_allowed)
		return -EINVAL;
	for (; i < len; i++) {
		unsigned digit = (unsigned char)buf[i] - '0';
		if (digit > 9 || *timeout > (UINT64_MAX - digit) / 10)
			return -EINVAL;
		*timeout = *timeout * 10 + digit;
	}
	return *timeout > 0 ? 0 : -EINVAL;
}

static struct power_lock *find(struct power_locks *l, const char *name)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->lock[i].name, name) == 0)
			return &l->lock[i];
	return NULL;
}

/* A free slot: a new one, else the inactive lock unused the longest; NULL when all are
 * active. */
static struct power_lock *slot(struct power_locks *l)
{
	struct power_lock *old = NULL;

	if (l->n < POWER_LOCKS_MAX)
		return &l->lock[l->n++];
	for (unsigned i = 0; i < l->n; i++)
		if (!l->lock[i].active && (!old || l->lock[i].used < old->used))
			old = &l->lock[i];
	return old;
}

int power_locks_take(struct power_locks *l, const char *buf, size_t len, uint64_t now)
{
	char name[POWER_LOCK_NAME_MAX + 1];
	uint64_t timeout;
	struct power_lock *lock;
	int ret = power_lock_parse(buf, len, true, name, &timeout);

	if (ret < 0)
		return ret;
	if (!(lock = find(l, name))) {
		if (!(lock = slot(l)))
			return -ENOSPC;
		memcpy(lock->name, name, sizeof(name));
	}
	lock->active = true;
	lock->used = now;
	lock->expires = timeout == 0 ? 0 : now > UINT64_MAX - timeout ? UINT64_MAX : now + timeout;
	return 0;
}

int power_locks_release(struct power_locks *l, const char *buf, size_t len, uint64_t now)
{
	char name[POWER_LOCK_NAME_MAX + 1];
	uint64_t timeout;
	struct power_lock *lock;
	int ret = power_lock_parse(buf, len, false, name, &timeout);

	if (ret < 0)
		return ret;
	if (!(lock = find(l, name)))
		return -EINVAL;
	lock->active = false;
	lock->expires = 0;
	lock->used = now;
	return 0;
}

unsigned power_locks_expire(struct power_locks *l, uint64_t now)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->n; i++)
		if (l->lock[i].active && l->lock[i].expires && l->lock[i].expires <= now) {
			l->lock[i].active = false;
			l->lock[i].expires = 0;
			l->lock[i].used = now;
			n++;
		}
	return n;
}

uint64_t power_locks_next_expiry(const struct power_locks *l)
{
	uint64_t next = 0;

	for (unsigned i = 0; i < l->n; i++)
		if (l->lock[i].active && l->lock[i].expires &&
		    (next == 0 || l->lock[i].expires < next))
			next = l->lock[i].expires;
	return next;
}

unsigned power_locks_active(const struct power_locks *l)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->n; i++)
		n += l->lock[i].active;
	return n;
}

size_t power_locks_show(const struct power_locks *l, bool active, char *buf, size_t size)
{
	size_t len = 0;

	if (size < 2)
		return 0;
	for (unsigned i = 0; i < l->n; i++) {
		size_t n = strlen(l->lock[i].name);
		if (l->lock[i].active != active)
			continue;
		/* Room for a separator, the name and the final newline and NUL. */
		if (len + (len > 0) + n + 2 > size)
			break;
		if (len > 0)
			buf[len++] = ' ';
		memcpy(buf + len, l->lock[i].name, n);
		len += n;
	}
	buf[len++] = '\n';
	buf[len] = '\0';
	return len;
}
