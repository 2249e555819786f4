/* The viewer's protocol, checked: cellsd takes every field the viewer sends for hostile (a
 * viewer taken over by a client may send anything), the viewer checks what cellsd sends
 * as the same bytes, for its own sake. */
#include "viewer/proto.h"
#include "common/names.h"

#include <errno.h>
#include <string.h>

static size_t size_of(uint16_t type)
{
	switch (type) {
	case VIEWER_STATUS:
		return sizeof(struct viewer_status);
	case VIEWER_POINTER:
		return sizeof(struct viewer_pointer);
	case VIEWER_KEY:
		return sizeof(struct viewer_key);
	case VIEWER_ACTION:
		return sizeof(struct viewer_action_msg);
	case VIEWER_LIST:
		return sizeof(struct viewer_list);
	case VIEWER_HELLO:
		return sizeof(struct viewer_hello);
	case VIEWER_RESULT:
		return sizeof(struct viewer_result);
	case VIEWER_VP:
		return sizeof(struct viewer_vp);
	default:
		return 0;
	}
}

void viewer_head_init(struct viewer_head *head, enum viewer_type type)
{
	head->version = VIEWER_PROTO_VERSION;
	head->type = (uint16_t)type;
	head->len = (uint32_t)size_of((uint16_t)type);
}

static bool terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

/* The head: version, type among WANT_LO..WANT_HI, and the exact length. */
static int check_head(const void *buf, size_t len, uint16_t lo, uint16_t hi, union viewer_msg *out,
		      struct error *err)
{
	struct viewer_head head;
	size_t want;

	if (len < sizeof(head))
		return error_set(err, 0, "viewer: a message of %zu bytes", len);
	memcpy(&head, buf, sizeof(head));
	if (head.version != VIEWER_PROTO_VERSION)
		return error_set(err, 0, "viewer: protocol version %u", head.version);
	if (head.type < lo || head.type > hi || !(want = size_of(head.type)))
		return error_set(err, 0, "viewer: message type %u", head.type);
	if (head.len != want || len != want)
		return error_set(err, 0, "viewer: message type %u of %u (%zu) bytes, not %zu",
				 head.type, head.len, len, want);
	memset(out, 0, sizeof(*out));
	memcpy(out, buf, want);
	return 0;
}

static int check_action(const struct viewer_action_msg *a, struct error *err)
{
	bool named =
		a->action == VIEWER_SWITCH || a->action == VIEWER_START || a->action == VIEWER_STOP;

	if (a->action < VIEWER_NEXT || a->action > VIEWER_STOP)
		return error_set(err, 0, "viewer: action %u", a->action);
	if (!terminated(a->name, sizeof(a->name)))
		return error_set(err, 0, "viewer: a name without its end");
	if (named ? !name_is_valid(a->name) : a->name[0] != '\0')
		return error_set(err, 0, "viewer: a bad VP name for action %u", a->action);
	return 0;
}

int viewer_parse(const void *buf, size_t len, union viewer_msg *out, struct error *err)
{
	int ret = check_head(buf, len, VIEWER_STATUS, VIEWER_LIST, out, err);

	if (ret < 0)
		return ret;
	switch (out->head.type) {
	case VIEWER_STATUS:
		if (out->status.clients > VIEWER_MAX_CLIENTS || out->status.repaint > 1)
			return error_set(err, 0, "viewer: status out of range");
		return 0;
	case VIEWER_POINTER:
		if (out->pointer.x < 0 || out->pointer.x > VIEWER_COORD_MAX || out->pointer.y < 0 ||
		    out->pointer.y > VIEWER_COORD_MAX || out->pointer.buttons > 0xff)
			return error_set(err, 0, "viewer: pointer out of range");
		return 0;
	case VIEWER_KEY:
		/* X keysyms are 29 bits; Unicode ones 0x1000000 + code point. */
		if (out->key.keysym > 0x1fffffff || out->key.down > 1)
			return error_set(err, 0, "viewer: key out of range");
		return 0;
	case VIEWER_ACTION:
		return check_action(&out->action, err);
	default: /* VIEWER_LIST: an id only, any value */
		return 0;
	}
}

int viewer_parse_from_daemon(const void *buf, size_t len, union viewer_msg *out, struct error *err)
{
	int ret = check_head(buf, len, VIEWER_HELLO, VIEWER_VP, out, err);

	if (ret < 0)
		return ret;
	switch (out->head.type) {
	case VIEWER_HELLO:
		if (!terminated(out->hello.vnc_password, VIEWER_SECRET_LEN) ||
		    !terminated(out->hello.web_token, VIEWER_SECRET_LEN) || out->hello.width < 1 ||
		    out->hello.width > 4096 || out->hello.height < 1 || out->hello.height > 4096)
			return error_set(err, 0, "viewer: a bad hello");
		return 0;
	case VIEWER_RESULT:
		if (!terminated(out->result.name, VIEWER_NAME_LEN) ||
		    !terminated(out->result.state, sizeof(out->result.state)) ||
		    !terminated(out->result.error, VIEWER_TEXT_LEN))
			return error_set(err, 0, "viewer: a bad result");
		return 0;
	default:
		if (!terminated(out->vp.name, VIEWER_NAME_LEN) ||
		    !terminated(out->vp.state, sizeof(out->vp.state)) || out->vp.count > 1000000 ||
		    (out->vp.count && out->vp.index >= out->vp.count))
			return error_set(err, 0, "viewer: a bad VP");
		return 0;
	}
}
