/* Unit tests of src/viewer/proto.c: what cellsd accepts from the viewer, field by field,
 * and the HTTP request parser of the viewer (src/viewer/http.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "viewer/http.h"
#include "viewer/proto.h"

#include <errno.h>
#include <string.h>

static int parse(const void *msg, size_t len)
{
	union viewer_msg out;
	struct error err = {{0}};

	return viewer_parse(msg, len, &out, &err);
}

static void accepts_each_well_formed_message(void **state)
{
	struct viewer_status st = {.clients = 3, .repaint = 1, .bytes_sent = 5};
	struct viewer_pointer p = {.x = 10, .y = 20, .buttons = 1};
	struct viewer_key k = {.keysym = 0x61, .down = 1};
	struct viewer_action_msg a = {.id = 9, .action = VIEWER_SWITCH};
	struct viewer_list l = {.id = 4};

	(void)state;
	viewer_head_init(&st.head, VIEWER_STATUS);
	viewer_head_init(&p.head, VIEWER_POINTER);
	viewer_head_init(&k.head, VIEWER_KEY);
	viewer_head_init(&a.head, VIEWER_ACTION);
	viewer_head_init(&l.head, VIEWER_LIST);
	strcpy(a.name, "work");
	assert_int_equal(parse(&st, sizeof(st)), 0);
	assert_int_equal(parse(&p, sizeof(p)), 0);
	assert_int_equal(parse(&k, sizeof(k)), 0);
	assert_int_equal(parse(&a, sizeof(a)), 0);
	assert_int_equal(parse(&l, sizeof(l)), 0);
	a.action = VIEWER_NEXT;
	a.name[0] = '\0';
	assert_int_equal(parse(&a, sizeof(a)), 0);
}

static void refuses_bad_heads(void **state)
{
	struct viewer_pointer p = {.x = 1, .y = 1};
	struct viewer_hello h = {0};

	(void)state;
	assert_int_equal(parse(&p, 3), -EINVAL);
	viewer_head_init(&p.head, VIEWER_POINTER);
	assert_int_equal(parse(&p, sizeof(p) - 1), -EINVAL);
	p.head.version = 2;
	assert_int_equal(parse(&p, sizeof(p)), -EINVAL);
	viewer_head_init(&p.head, VIEWER_POINTER);
	p.head.len = sizeof(p) + 4;
	assert_int_equal(parse(&p, sizeof(p)), -EINVAL);
	p.head.type = 999;
	assert_int_equal(parse(&p, sizeof(p)), -EINVAL);
	/* A daemon->viewer type is no viewer->daemon message. */
	viewer_head_init(&h.head, VIEWER_HELLO);
	assert_int_equal(parse(&h, sizeof(h)), -EINVAL);
}

static void refuses_fields_out_of_range(void **state)
{
	struct viewer_pointer p = {.x = -1, .y = 0};
	struct viewer_key k = {.keysym = 0x61, .down = 2};
	struct viewer_status st = {.clients = VIEWER_MAX_CLIENTS + 1};
	struct viewer_action_msg a = {.action = VIEWER_STOP};

	(void)state;
	viewer_head_init(&p.head, VIEWER_POINTER);
	viewer_head_init(&k.head, VIEWER_KEY);
	viewer_head_init(&st.head, VIEWER_STATUS);
	viewer_head_init(&a.head, VIEWER_ACTION);
	assert_int_equal(parse(&p, sizeof(p)), -EINVAL);
	p.x = VIEWER_COORD_MAX + 1;
	assert_int_equal(parse(&p, sizeof(p)), -EINVAL);
	p.x = 0;
	p.buttons = 0x100;
	assert_int_equal(parse(&p, sizeof(p)), -EINVAL);
	assert_int_equal(parse(&k, sizeof(k)), -EINVAL);
	assert_int_equal(parse(&st, sizeof(st)), -EINVAL);
	/* Names: terminated, valid, and only where the action takes one. */
	memset(a.name, 'a', sizeof(a.name));
	assert_int_equal(parse(&a, sizeof(a)), -EINVAL);
	strcpy(a.name, "../x");
	assert_int_equal(parse(&a, sizeof(a)), -EINVAL);
	strcpy(a.name, "");
	assert_int_equal(parse(&a, sizeof(a)), -EINVAL);
	a.action = VIEWER_NEXT;
	strcpy(a.name, "work");
	assert_int_equal(parse(&a, sizeof(a)), -EINVAL);
	a.action = 0;
	assert_int_equal(parse(&a, sizeof(a)), -EINVAL);
	a.action = VIEWER_STOP + 1;
	assert_int_equal(parse(&a, sizeof(a)), -EINVAL);
}

static void http_parses_what_the_viewer_needs(void **state)
{
	static const char req[] = "GET /websockify?x=1 HTTP/1.1\r\nHost: 127.0.0.1:6080\r\n"
				  "Origin: http://127.0.0.1:6080\r\nUpgrade: websocket\r\n"
				  "Cookie: a=b; cells_token=0123abcd; c=d\r\n\r\nrest";
	struct http_request r;
	char value[16];

	(void)state;
	assert_int_equal(http_parse(req, sizeof(req) - 1, &r), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/websockify");
	assert_string_equal(r.query, "x=1");
	assert_string_equal(r.token, "0123abcd");
	assert_true(r.websocket);
	assert_true(http_same_origin(&r));
	assert_int_equal(r.head_len, sizeof(req) - 1 - 4);
	assert_int_equal(http_parse(req, 40, &r), -EAGAIN);
	assert_true(http_query_get("name=work&token=x", "token", value, sizeof(value)));
	assert_string_equal(value, "x");
	assert_false(http_query_get("name=work", "nam", value, sizeof(value)));
}

static void http_refuses_foreign_origins_and_junk(void **state)
{
	struct http_request r;
	static const char *const foreign[] = {
		"POST /api/next HTTP/1.1\r\nHost: 127.0.0.1:6080\r\nOrigin: "
		"https://evil.example\r\n\r\n",
		"POST /api/next HTTP/1.1\r\nHost: 127.0.0.1:6080\r\nOrigin: null\r\n\r\n",
		"POST /api/next HTTP/1.1\r\nHost: 127.0.0.1:6080\r\n"
		"Origin: http://127.0.0.1:6080.evil.example\r\n\r\n",
		"POST /api/next HTTP/1.1\r\nOrigin: http://127.0.0.1:6080\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		assert_int_equal(http_parse(foreign[i], strlen(foreign[i]), &r), 0);
		assert_false(http_same_origin(&r));
	}
	assert_int_equal(http_parse("GARBAGE\r\n\r\n", 11, &r), -EINVAL);
	assert_int_equal(http_parse("GET x HTTP/1.0\r\n\r\n", 18, &r), -EINVAL);
	assert_false(http_secret_equal("", ""));
	assert_false(http_secret_equal("abc", "abd"));
	assert_true(http_secret_equal("abc", "abc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_each_well_formed_message),
		cmocka_unit_test(refuses_bad_heads),
		cmocka_unit_test(refuses_fields_out_of_range),
		cmocka_unit_test(http_parses_what_the_viewer_needs),
		cmocka_unit_test(http_refuses_foreign_origins_and_junk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
