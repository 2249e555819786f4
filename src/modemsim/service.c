/* The carrier and the forwarding service behind the modem (docs/TELEPHONY.md):
 * - numbers: the SIM's own, and forwarded ones, each with the tag the service puts
 *   before the caller's number when it passes a call or SMS on to the SIM;
 * - outgoing calls: "<access><tag><dest>" reaches DEST with the tag's number as caller
 *   ID, anything else reaches what was dialled with the SIM's number;
 * - outgoing SMS to the gateway number: "<tag><dest> <text>" delivers TEXT to DEST from
 *   the tag's number;
 * - remote parties: how each behaves when called. */
#include "modemsim/sim.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static bool number_ok(const char *n)
{
	size_t len = strlen(n);

	return len > 0 && len < NUMBER_MAX && strspn(n, "+0123456789*#") == len;
}

int service_add_forward(struct sim *sim, const char *number, const char *tag, struct error *err)
{
	struct forward *f = NULL;

	if (!number_ok(number) || strcmp(number, sim->number) == 0)
		return error_set(err, 0, "bad forwarded number \"%s\"", number);
	if (!number_ok(tag) || strchr(tag, '+'))
		return error_set(err, 0, "bad tag \"%s\"", tag);
	for (size_t i = 0; i < sim->nforwards; i++)
		if (strcmp(sim->forwards[i].number, number) == 0)
			f = &sim->forwards[i];
	if (!f) {
		if (sim->nforwards >= FORWARDS_MAX)
			return error_set(err, ENOSPC, "too many forwarded numbers");
		f = &sim->forwards[sim->nforwards++];
	}
	snprintf(f->number, sizeof(f->number), "%s", number);
	snprintf(f->tag, sizeof(f->tag), "%s", tag);
	return 0;
}

int service_set_party(struct sim *sim, const char *number, const char *mode, struct error *err)
{
	static const char *const modes[] = {"ring", "answer", "busy"};
	struct party *p = NULL;
	size_t m;

	if (!number_ok(number))
		return error_set(err, 0, "bad number \"%s\"", number);
	for (m = 0; m < 3 && strcmp(modes[m], mode) != 0; m++)
		;
	if (m == 3)
		return error_set(err, 0, "on_call is ring, answer or busy");
	for (size_t i = 0; i < sim->nparties; i++)
		if (strcmp(sim->parties[i].number, number) == 0)
			p = &sim->parties[i];
	if (!p) {
		if (sim->nparties >= PARTIES_MAX)
			return error_set(err, ENOSPC, "too many parties");
		p = &sim->parties[sim->nparties++];
	}
	snprintf(p->number, sizeof(p->number), "%s", number);
	p->mode = (enum party_mode)m;
	return 0;
}

enum party_mode service_party(const struct sim *sim, const char *number)
{
	for (size_t i = 0; i < sim->nparties; i++)
		if (strcmp(sim->parties[i].number, number) == 0)
			return sim->parties[i].mode;
	return PARTY_RING;
}

/* The forwarded number whose tag starts S (the longest such tag). */
static const struct forward *tagged(const struct sim *sim, const char *s)
{
	const struct forward *best = NULL;

	for (size_t i = 0; i < sim->nforwards; i++) {
		const struct forward *f = &sim->forwards[i];
		size_t n = strlen(f->tag);

		if (strncmp(s, f->tag, n) == 0 && (!best || n > strlen(best->tag)))
			best = f;
	}
	return best;
}

static int copy(char *dst, const char *src, struct error *err)
{
	if (strlen(src) >= NUMBER_MAX)
		return error_set(err, 0, "number too long");
	strcpy(dst, src);
	return 0;
}

int service_route_call(const struct sim *sim, const char *dialled, char *dest, char *shown,
		       struct error *err)
{
	size_t n = strlen(sim->access);
	const struct forward *f;

	if (n == 0 || strncmp(dialled, sim->access, n) != 0) {
		copy(shown, sim->number, err);
		return copy(dest, dialled, err);
	}
	f = tagged(sim, dialled + n);
	if (!f || !dialled[n + strlen(f->tag)])
		return error_set(err, 0, "the access number without a known tag and a number");
	copy(shown, f->number, err);
	return copy(dest, dialled + n + strlen(f->tag), err);
}

int service_route_incoming(const struct sim *sim, const char *from, const char *to, char *shown,
			   struct error *err)
{
	if (!*from || strlen(from) >= NUMBER_MAX)
		return error_set(err, 0, "bad caller \"%s\"", from);
	if (strcmp(to, sim->number) == 0)
		return copy(shown, from, err);
	for (size_t i = 0; i < sim->nforwards; i++) {
		const struct forward *f = &sim->forwards[i];

		if (strcmp(f->number, to) != 0)
			continue;
		if (strlen(f->tag) + strlen(from) >= NUMBER_MAX)
			return error_set(err, 0, "caller number too long");
		snprintf(shown, NUMBER_MAX, "%s%s", f->tag, from);
		return 0;
	}
	return error_set(err, ENOENT, "no such number \"%s\" here", to);
}

void service_route_sms(const struct sim *sim, const char *dest, const char *text, char *to,
		       char *from, char *out_text, size_t out_size)
{
	const struct forward *f;
	const char *d, *space;

	if (sim->gateway[0] && strcmp(dest, sim->gateway) == 0 && (f = tagged(sim, text))) {
		d = text + strlen(f->tag);
		space = strchr(d, ' ');
		if (space && space > d && (size_t)(space - d) < NUMBER_MAX) {
			snprintf(to, NUMBER_MAX, "%.*s", (int)(space - d), d);
			snprintf(from, NUMBER_MAX, "%s", f->number);
			snprintf(out_text, out_size, "%s", space + 1);
			return;
		}
	}
	/* Not for the gateway, or not in its format: the message goes where it was sent. */
	snprintf(to, NUMBER_MAX, "%s", dest);
	snprintf(from, NUMBER_MAX, "%s", sim->number);
	snprintf(out_text, out_size, "%s", text);
}

int service_sms_incoming(struct sim *sim, const char *from, const char *to, const char *text,
			 struct error *err)
{
	char shown[NUMBER_MAX];
	int r = service_route_incoming(sim, from, to, shown, err);

	if (r < 0)
		return r;
	return modem_sms_deliver(sim, shown, text, err);
}

void service_record_sent(struct sim *sim, const char *from, const char *to, const char *text)
{
	struct sent_sms *s = &sim->sent[sim->nsent++ % SENT_MAX];
	struct error err;

	snprintf(s->from, sizeof(s->from), "%s", from);
	snprintf(s->to, sizeof(s->to), "%s", to);
	snprintf(s->text, sizeof(s->text), "%s", text);
	if (control_subscribed(sim))
		control_event(sim, json_pack("{s:s, s:s, s:s, s:s}", "event", "sms", "from", from,
					     "to", to, "text", text));
	/* To one of this SIM's numbers (one VP texting another): it comes back in. */
	if (service_sms_incoming(sim, from, to, text, &err) < 0 && err.msg[0] &&
	    !strstr(err.msg, "no such number"))
		control_event(sim, json_pack("{s:s, s:s}", "event", "error", "error", err.msg));
}
