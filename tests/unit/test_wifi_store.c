/* A VP's saved Wi-Fi networks (src/devices/wifi_store.c): what the network requests do to
 * them, what LIST/GET_NETWORK show (secrets as "*"), and their file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/wifi_store.h"

static void add_set_get(void **unused)
{
	struct wifi_store *st = calloc(1, sizeof(*st));
	char out[256];
	(void)unused;

	wifi_store_init(st);
	assert_int_equal(wifi_store_add(st), 0);
	assert_int_equal(wifi_store_add(st), 1);
	assert_int_equal(wifi_store_set(st, 0, "ssid", "\"home\""), 0);
	assert_int_equal(wifi_store_set(st, 0, "psk", "\"secret123\""), 0);
	assert_int_equal(wifi_store_set(st, 0, "ssid", "\"home2\""), 0);
	assert_int_equal(wifi_store_set(st, 7, "ssid", "\"x\""), -ENOENT);
	assert_int_equal(wifi_store_set(st, 0, "ssid", "\"a\nb\""), -EINVAL);
	assert_int_equal(wifi_store_get(st, 0, "ssid", out, sizeof(out)), 7);
	assert_string_equal(out, "\"home2\"");
	assert_int_equal(wifi_store_get(st, 0, "psk", out, sizeof(out)), 1);
	assert_string_equal(out, "*");
	assert_int_equal(wifi_store_get(st, 1, "ssid", out, sizeof(out)), -ENOENT);
	assert_int_equal(wifi_store_enable(st, 0, true), 0);
	wifi_store_list(st, 0, out, sizeof(out));
	assert_string_equal(out, "network id / ssid / bssid / flags\n0\thome2\tany\t[CURRENT]\n"
				 "1\t\tany\t[DISABLED]\n");
	assert_int_equal(wifi_store_select(st, 1), 0);
	assert_true(wifi_store_find(st, 0)->disabled);
	assert_false(wifi_store_find(st, 1)->disabled);
	assert_int_equal(wifi_store_select(st, WIFI_ID_ALL), 0);
	assert_false(wifi_store_find(st, 0)->disabled);
	assert_int_equal(wifi_store_remove(st, 0), 0);
	assert_int_equal(wifi_store_remove(st, 0), -ENOENT);
	assert_int_equal(st->n, 1);
	/* Ids are not reused, as wpa_supplicant's. */
	assert_int_equal(wifi_store_add(st), 2);
	assert_int_equal(wifi_store_remove(st, WIFI_ID_ALL), 0);
	assert_int_equal(st->n, 0);
	free(st);
}

static void bounded(void **unused)
{
	struct wifi_store *st = calloc(1, sizeof(*st));
	char small[40];
	(void)unused;

	wifi_store_init(st);
	for (int i = 0; i < WIFI_MAX_NETWORKS; i++)
		assert_int_equal(wifi_store_add(st), i);
	assert_int_equal(wifi_store_add(st), -ENOSPC);
	/* A short buffer is cut, still a string. */
	assert_true(wifi_store_list(st, WIFI_ID_NONE, small, sizeof(small)) < sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	free(st);
}

static void saved_and_loaded(void **unused)
{
	struct wifi_store *st = calloc(1, sizeof(*st)), *back = calloc(1, sizeof(*back));
	char dir[] = "/tmp/wifi-store-XXXXXX", path[128], out[64];
	struct error err;
	struct stat sb;
	FILE *f;
	(void)unused;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/networks.json", dir);
	assert_int_equal(wifi_store_load(back, path, &err), 0); /* none yet */
	assert_int_equal(back->n, 0);
	wifi_store_init(st);
	wifi_store_add(st);
	wifi_store_add(st);
	wifi_store_remove(st, 0);
	assert_int_equal(wifi_store_set(st, 1, "ssid", "\"office\""), 0);
	assert_int_equal(wifi_store_set(st, 1, "key_mgmt", "WPA-PSK"), 0);
	assert_int_equal(wifi_store_set(st, 1, "psk", "\"hunter2hunter2\""), 0);
	wifi_store_enable(st, 1, true);
	assert_int_equal(wifi_store_save(st, path, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(wifi_store_load(back, path, &err), 0);
	assert_int_equal(back->n, 1);
	assert_int_equal(back->next_id, 2);
	assert_false(back->nets[0].disabled);
	assert_int_equal(wifi_store_get(back, 1, "key_mgmt", out, sizeof(out)), 7);
	assert_string_equal(wifi_net_get(&back->nets[0], "psk"), "\"hunter2hunter2\"");
	/* A file with a bad value is refused whole. */
	f = fopen(path, "w");
	fputs("{\"networks\":[{\"id\":0,\"disabled\":false,\"vars\":{\"ssid\":\"\\\"a\\nb\\\"\"}}],"
	      "\"next_id\":1}",
	      f);
	fclose(f);
	assert_true(wifi_store_load(back, path, &err) < 0);
	assert_int_equal(back->n, 0);
	f = fopen(path, "w");
	fputs("[1,2", f);
	fclose(f);
	assert_true(wifi_store_load(back, path, &err) < 0);
	unlink(path);
	rmdir(dir);
	free(st);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_set_get),
		cmocka_unit_test(bounded),
		cmocka_unit_test(saved_and_loaded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
