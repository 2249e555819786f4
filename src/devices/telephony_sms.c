/* SMS (telephony.h): always PDU mode to the modem; each VP in the mode it chose. What
 * the modem receives is stored on its SIM (+CMTI), read, moved into its VP's store (a
 * file per message in the VP's persistent device directory, which no other VP's
 * commands reach), then deleted from the SIM. */
#include "devices/telephony.h"
#include "common/log.h"
#include "common/sms_pdu.h"
#include "common/ucs2.h"
#include "devns/devns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A stored message: its 27.005 stat (0 unread, 1 read) and its DELIVER PDU. */
#define STR_(x)	      #x
#define STR(x)	      STR_(x)
#define SMS_HEX_WIDTH 352 /* SMS_HEX_MAX - 1, as a literal for sscanf */
_Static_assert(SMS_HEX_WIDTH == SMS_HEX_MAX - 1, "SMS_HEX_WIDTH follows SMS_HEX_MAX");

struct stored {
	int stat;
	size_t tpdu_len;
	char pdu[SMS_HEX_MAX];
};

static void msg_path(const struct tel_vp *vp, unsigned index, char *out, size_t size)
{
	snprintf(out, size, "%s/%u.sms", vp->store, index);
}

static int load(const struct tel_vp *vp, unsigned index, struct stored *m)
{
	char path[600], buf[SMS_HEX_MAX + 64];
	ssize_t n;
	int fd;

	memset(m, 0, sizeof(*m));
	msg_path(vp, index, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EINVAL;
	buf[n] = '\0';
	/* The daemon's own file; read as if it were not (a bounded PDU, a known status). */
	if (sscanf(buf, "%d %zu %" STR(SMS_HEX_WIDTH) "s", &m->stat, &m->tpdu_len, m->pdu) != 3 ||
	    m->stat < 0 || m->stat > 3 || m->tpdu_len > SMS_TPDU_MAX)
		return -EINVAL;
	return 0;
}

static int save(const struct tel_vp *vp, unsigned index, const struct stored *m)
{
	char path[600], tmp[620], buf[SMS_HEX_MAX + 64];
	int fd, len, ret = 0;

	msg_path(vp, index, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	len = snprintf(buf, sizeof(buf), "%d %zu %s\n", m->stat, m->tpdu_len, m->pdu);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return -errno;
	if (write(fd, buf, (size_t)len) != len || fsync(fd) < 0)
		ret = -EIO;
	close(fd);
	if (ret == 0 && rename(tmp, path) < 0)
		ret = -errno;
	if (ret < 0)
		unlink(tmp);
	return ret;
}

static unsigned count(const struct tel_vp *vp)
{
	struct stored m;
	unsigned n = 0;

	for (unsigned i = 1; i <= TEL_SMS_STORE_MAX; i++)
		if (load(vp, i, &m) == 0)
			n++;
	return n;
}

static void scts_text(const struct sms *s, char *out, size_t size)
{
	int tz = s->scts.tz_quarters;

	snprintf(out, size, "%02d/%02d/%02d,%02d:%02d:%02d%c%02d", s->scts.year % 100,
		 s->scts.month, s->scts.day, s->scts.hour, s->scts.minute, s->scts.second,
		 tz < 0 ? '-' : '+', abs(tz));
}

static const char *const stat_names[] = {"REC UNREAD", "REC READ", "STO UNSENT", "STO SENT"};

/* A text-mode message's originator and text in the VP's character set: as they are
 * (UTF-8), or hex of UCS-2 in UCS2. */
struct shown {
	char addr[4 * sizeof(((struct sms *)0)->addr)];
	char text[4 * sizeof(((struct sms *)0)->text)];
};

static int show_text(const struct tel_vp *vp, const struct sms *s, struct shown *out)
{
	if (!tel_at_ucs2(&vp->at)) {
		snprintf(out->addr, sizeof(out->addr), "%s", s->addr);
		snprintf(out->text, sizeof(out->text), "%s", s->text);
		return 0;
	}
	if (utf8_to_ucs2_hex(s->addr, out->addr, sizeof(out->addr)) < 0 ||
	    utf8_to_ucs2_hex(s->text, out->text, sizeof(out->text)) < 0)
		return -1;
	return 0;
}

/* One message as +CMGL (LIST) or +CMGR shows it, in the VP's mode. */
static void show(struct tel_vp *vp, unsigned index, const struct stored *m, bool list,
		 bool text_mode)
{
	char line[3200], when[32];
	struct sms s;
	struct shown t;
	struct error err;

	if (!text_mode) {
		if (list)
			snprintf(line, sizeof(line), "+CMGL: %u,%d,,%zu\r\n%s", index, m->stat,
				 m->tpdu_len, m->pdu);
		else
			snprintf(line, sizeof(line), "+CMGR: %d,,%zu\r\n%s", m->stat, m->tpdu_len,
				 m->pdu);
		tel_at_info(&vp->at, line);
		return;
	}
	if (sms_pdu_decode(m->pdu, m->tpdu_len, &s, &err) < 0 || show_text(vp, &s, &t) < 0)
		return;
	scts_text(&s, when, sizeof(when));
	if (list)
		snprintf(line, sizeof(line), "+CMGL: %u,\"%s\",\"%s\",,\"%s\"\r\n%s", index,
			 stat_names[m->stat & 3], t.addr, when, t.text);
	else
		snprintf(line, sizeof(line), "+CMGR: \"%s\",\"%s\",,\"%s\"\r\n%s",
			 stat_names[m->stat & 3], t.addr, when, t.text);
	tel_at_info(&vp->at, line);
}

static int list(struct tel_vp *vp, long stat, bool text_mode)
{
	struct stored m;

	for (unsigned i = 1; i <= TEL_SMS_STORE_MAX; i++) {
		if (load(vp, i, &m) < 0 || (stat != 4 && m.stat != stat))
			continue;
		show(vp, i, &m, true, text_mode);
		if (m.stat == 0) { /* listed: read now, as on a SIM */
			m.stat = 1;
			save(vp, i, &m);
		}
	}
	return TEL_OK;
}

static int read_one(struct tel_vp *vp, long index, bool text_mode, int *code)
{
	struct stored m;

	if (index < 1 || index > TEL_SMS_STORE_MAX || load(vp, (unsigned)index, &m) < 0) {
		*code = CMS_BAD_INDEX;
		return TEL_CMS;
	}
	show(vp, (unsigned)index, &m, false, text_mode);
	if (m.stat == 0) {
		m.stat = 1;
		save(vp, (unsigned)index, &m);
	}
	return TEL_OK;
}

static int delete (struct tel_vp *vp, long index, long flag, int *code)
{
	char path[600];
	struct stored m;

	if (flag == 0) {
		if (index < 1 || index > TEL_SMS_STORE_MAX) {
			*code = CMS_BAD_INDEX;
			return TEL_CMS;
		}
		msg_path(vp, (unsigned)index, path, sizeof(path));
		if (unlink(path) < 0 && errno != ENOENT) {
			*code = CMS_UNKNOWN;
			return TEL_CMS;
		}
		return TEL_OK;
	}
	/* 1 read, 2 read and sent, 3 read, sent and unsent, 4 all. */
	for (unsigned i = 1; i <= TEL_SMS_STORE_MAX; i++) {
		if (load(vp, i, &m) < 0 || (flag < 4 && m.stat == 0))
			continue;
		msg_path(vp, i, path, sizeof(path));
		unlink(path);
	}
	return TEL_OK;
}

static void send_done(void *data, int result, int code, const char *info)
{
	struct tel_vp *vp = data;
	unsigned mr = 0;
	char line[32];

	if (result == TEL_OK) {
		const char *p = strstr(info, "+CMGS:");
		if (p)
			mr = (unsigned)atoi(p + 6);
		snprintf(line, sizeof(line), "+CMGS: %u", mr & 0xff);
		tel_at_info(&vp->at, line);
		vp->dev->sms_out++;
	} else if (result != TEL_CMS) {
		result = TEL_CMS;
		code = CMS_UNKNOWN;
	}
	tel_at_done(&vp->at, result, code);
}

static int send(struct tel_dev *dev, struct tel_vp *vp, const struct tel_request *req, int *code)
{
	struct sms in, out = {.kind = SMS_SUBMIT};
	struct error err;
	char hex[SMS_HEX_MAX], cmd[32];
	size_t tpdu_len;
	int ret;

	*code = req->text_mode ? CMS_BAD_TEXT : CMS_BAD_PDU;
	if (req->text_mode) {
		memset(&in, 0, sizeof(in));
		snprintf(in.addr, sizeof(in.addr), "%s", req->dest);
		if (strlen(req->data) >= sizeof(in.text))
			return TEL_CMS;
		snprintf(in.text, sizeof(in.text), "%s", req->data);
	} else if (sms_pdu_decode(req->data, req->tpdu_len, &in, &err) < 0 ||
		   in.kind != SMS_SUBMIT) {
		return TEL_CMS;
	}
	if (tel_number_sms(&dev->numbers, tel_vp_owns_sim(dev, vp), vp->id, in.addr, in.text,
			   out.addr, sizeof(out.addr), out.text, sizeof(out.text), &err) < 0) {
		log_info("telephony: %s: SMS refused: %s", vp->name, err.msg);
		tel_event(dev, "sms-refused", vp, "reason", err.msg);
		*code = CMS_NOT_ALLOWED;
		return TEL_CMS;
	}
	out.mr = in.mr;
	if ((ret = sms_pdu_encode(&out, hex, sizeof(hex), &tpdu_len, &err)) < 0) {
		*code = ret == -EMSGSIZE ? CMS_BAD_TEXT : CMS_UNKNOWN;
		return TEL_CMS;
	}
	snprintf(cmd, sizeof(cmd), "AT+CMGS=%zu", tpdu_len);
	if (tel_link_send(dev->link, cmd, hex, send_done, vp) < 0) {
		*code = CMS_UNKNOWN;
		return TEL_CMS;
	}
	tel_event(dev, "sms-sent", vp, "to", in.addr);
	return TEL_PENDING;
}

int tel_sms_request(struct tel_dev *dev, struct tel_vp *vp, const struct tel_request *req,
		    int *code)
{
	switch (req->kind) {
	case TEL_REQ_SMS_SEND:
		return send(dev, vp, req, code);
	case TEL_REQ_SMS_LIST:
		return list(vp, req->index, req->text_mode);
	case TEL_REQ_SMS_READ:
		return read_one(vp, req->index, req->text_mode, code);
	case TEL_REQ_SMS_DELETE:
		return delete (vp, req->index, req->flag, code);
	case TEL_REQ_SMS_COUNT:
		*code = (int)count(vp);
		return TEL_OK;
	default:
		*code = CMS_NOT_SUPPORTED;
		return TEL_CMS;
	}
}

/* A message for VP: stored, and the VP told as its +CNMI asks. */
static void deliver(struct tel_dev *dev, struct tel_vp *vp, const struct sms *s)
{
	struct stored m = {.stat = 0};
	struct error err;
	struct shown t;
	char line[3200], when[32];
	unsigned index = 0;

	if (sms_pdu_encode(s, m.pdu, sizeof(m.pdu), &m.tpdu_len, &err) < 0) {
		log_warn("telephony: re-encode an SMS for %s: %s", vp->name, err.msg);
		return;
	}
	dev->sms_in++;
	tel_wake_vp(dev, vp, TEL_WAKE_SMS_MS);
	tel_event(dev, "sms-received", vp, "from", s->addr);
	if (vp->at.set.cnmi[1] == 2) { /* routed to the VP, not stored */
		if (vp->at.set.cmgf) {
			if (show_text(vp, s, &t) < 0)
				return;
			scts_text(s, when, sizeof(when));
			snprintf(line, sizeof(line), "+CMT: \"%s\",,\"%s\"\r\n%s", t.addr, when,
				 t.text);
		} else {
			snprintf(line, sizeof(line), "+CMT: ,%zu\r\n%s", m.tpdu_len, m.pdu);
		}
		tel_at_urc(&vp->at, line);
		return;
	}
	for (unsigned i = 1; i <= TEL_SMS_STORE_MAX && !index; i++) {
		struct stored old;
		if (load(vp, i, &old) < 0)
			index = i;
	}
	if (!index || save(vp, index, &m) < 0) {
		log_warn("telephony: %s: its SMS store is full or unwritable: a message lost",
			 vp->name);
		tel_event(dev, "sms-lost", vp, "from", s->addr);
		return;
	}
	if (vp->at.set.cnmi[1] == 1) {
		snprintf(line, sizeof(line), "+CMTI: \"SM\",%u", index);
		tel_at_urc(&vp->at, line);
	}
}

/* A DELIVER PDU from the modem: whose it is, the tag stripped. */
static void received(struct tel_dev *dev, const char *pdu, size_t tpdu_len)
{
	struct sms s;
	struct error err;
	char caller[TEL_NUMBER_MAX];
	unsigned id = 0;
	int tagged;
	struct tel_vp *vp;

	if (sms_pdu_decode(pdu, tpdu_len, &s, &err) < 0 || s.kind != SMS_DELIVER) {
		dev->sms_refused++;
		log_warn("telephony: an SMS the modem gave cannot be read: %s", err.msg);
		return;
	}
	tagged = tel_number_incoming(&dev->numbers, s.addr, &id, caller, sizeof(caller));
	vp = tagged > 0 ? tel_vp_by_id(dev, id) : tagged == 0 ? tel_vp_owner(dev) : NULL;
	if (!vp) {
		dev->sms_refused++;
		log_info("telephony: SMS from %s kept nowhere: no VP of its", s.addr);
		tel_event(dev, "sms-refused", NULL, "from", s.addr);
		return;
	}
	snprintf(s.addr, sizeof(s.addr), "%s", caller);
	deliver(dev, vp, &s);
}

/* A "+CMGR: <stat>,[<alpha>],<len>" or "+CMGL: <index>,<stat>,[<alpha>],<len>" line LINE
 * and the PDU line after it: the TPDU length and the PDU; the next line, or NULL. */
static const char *parse_entry(const char *line, size_t *len, char *pdu, size_t size)
{
	const char *nl = strchr(line, '\n'), *comma, *end;
	size_t n;

	if (!nl)
		return NULL;
	comma = memrchr(line, ',', (size_t)(nl - line));
	if (!comma || sscanf(comma + 1, "%zu", len) != 1)
		return NULL;
	end = strchr(nl + 1, '\n');
	n = end ? (size_t)(end - nl - 1) : strlen(nl + 1);
	if (n == 0 || n >= size)
		return NULL;
	memcpy(pdu, nl + 1, n);
	pdu[n] = '\0';
	return end ? end + 1 : nl + 1 + n;
}

static void read_done(void *data, int result, int code, const char *info)
{
	struct tel_dev *dev = data;
	char pdu[SMS_HEX_MAX];
	size_t len;

	(void)code;
	if (result == TEL_OK && starts(info, "+CMGR:") && parse_entry(info, &len, pdu, sizeof(pdu)))
		received(dev, pdu, len);
}

/* +CMGL=4's answer at start: each message read, moved and deleted. */
static void list_done(void *data, int result, int code, const char *info)
{
	struct tel_dev *dev = data;
	char cmd[32], pdu[SMS_HEX_MAX];
	unsigned index;
	size_t len;

	(void)code;
	if (result != TEL_OK)
		return;
	for (const char *l = info; l && *l;) {
		const char *next = NULL;
		if (sscanf(l, "+CMGL: %u,", &index) == 1 &&
		    (next = parse_entry(l, &len, pdu, sizeof(pdu)))) {
			received(dev, pdu, len);
			snprintf(cmd, sizeof(cmd), "AT+CMGD=%u", index);
			tel_link_send(dev->link, cmd, NULL, NULL, NULL);
		}
		if (!next) {
			next = strchr(l, '\n');
			next = next ? next + 1 : NULL;
		}
		l = next;
	}
}

bool tel_sms_urc(struct tel_dev *dev, const char *line, const char *pdu)
{
	char cmd[32];
	unsigned index;
	size_t len;

	if (starts(line, "+CMTI:")) {
		const char *comma = strchr(line, ',');
		if (!comma || sscanf(comma + 1, "%u", &index) != 1)
			return true;
		snprintf(cmd, sizeof(cmd), "AT+CMGR=%u", index);
		tel_link_send(dev->link, cmd, NULL, read_done, dev);
		snprintf(cmd, sizeof(cmd), "AT+CMGD=%u", index);
		tel_link_send(dev->link, cmd, NULL, NULL, NULL);
		return true;
	}
	if (starts(line, "+CMT:")) {
		const char *comma = strrchr(line, ',');
		if (pdu && comma && sscanf(comma + 1, "%zu", &len) == 1)
			received(dev, pdu, len);
		return true;
	}
	return false;
}

void tel_sms_link_up(struct tel_dev *dev)
{
	tel_link_send(dev->link, "AT+CMGL=4", NULL, list_done, dev);
}
