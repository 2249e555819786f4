/* Key names and codes: see keymap.h. One table holds each key once: its name, its code
 * and the keysyms that give it (a letter's lower and upper case, a digit and the symbol
 * shifted over it on a US keyboard). */
#include "common/keymap.h"
#include "common/cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <linux/input.h>
#include <rfb/keysym.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct key {
	const char *name;
	unsigned code;
	uint32_t keysym[2];
};

/* XFree86 keysyms of phone-like keys (X11/XF86keysym.h, not in libvncserver's keysym.h). */
#define XF86_AUDIO_LOWER_VOLUME 0x1008FF11
#define XF86_AUDIO_MUTE		0x1008FF12
#define XF86_AUDIO_RAISE_VOLUME 0x1008FF13
#define XF86_HOME_PAGE		0x1008FF18
#define XF86_BACK		0x1008FF26
#define XF86_POWER_OFF		0x1008FF2A
#define XF86_PHONE		0x1008FF6E

static const struct key keys[] = {
	{"a", KEY_A, {'a', 'A'}},
	{"b", KEY_B, {'b', 'B'}},
	{"c", KEY_C, {'c', 'C'}},
	{"d", KEY_D, {'d', 'D'}},
	{"e", KEY_E, {'e', 'E'}},
	{"f", KEY_F, {'f', 'F'}},
	{"g", KEY_G, {'g', 'G'}},
	{"h", KEY_H, {'h', 'H'}},
	{"i", KEY_I, {'i', 'I'}},
	{"j", KEY_J, {'j', 'J'}},
	{"k", KEY_K, {'k', 'K'}},
	{"l", KEY_L, {'l', 'L'}},
	{"m", KEY_M, {'m', 'M'}},
	{"n", KEY_N, {'n', 'N'}},
	{"o", KEY_O, {'o', 'O'}},
	{"p", KEY_P, {'p', 'P'}},
	{"q", KEY_Q, {'q', 'Q'}},
	{"r", KEY_R, {'r', 'R'}},
	{"s", KEY_S, {'s', 'S'}},
	{"t", KEY_T, {'t', 'T'}},
	{"u", KEY_U, {'u', 'U'}},
	{"v", KEY_V, {'v', 'V'}},
	{"w", KEY_W, {'w', 'W'}},
	{"x", KEY_X, {'x', 'X'}},
	{"y", KEY_Y, {'y', 'Y'}},
	{"z", KEY_Z, {'z', 'Z'}},
	{"1", KEY_1, {'1', '!'}},
	{"2", KEY_2, {'2', '@'}},
	{"3", KEY_3, {'3', '#'}},
	{"4", KEY_4, {'4', '$'}},
	{"5", KEY_5, {'5', '%'}},
	{"6", KEY_6, {'6', '^'}},
	{"7", KEY_7, {'7', '&'}},
	{"8", KEY_8, {'8', '*'}},
	{"9", KEY_9, {'9', '('}},
	{"0", KEY_0, {'0', ')'}},
	{"minus", KEY_MINUS, {'-', '_'}},
	{"equal", KEY_EQUAL, {'=', '+'}},
	{"leftbrace", KEY_LEFTBRACE, {'[', '{'}},
	{"rightbrace", KEY_RIGHTBRACE, {']', '}'}},
	{"semicolon", KEY_SEMICOLON, {';', ':'}},
	{"apostrophe", KEY_APOSTROPHE, {'\'', '"'}},
	{"grave", KEY_GRAVE, {'`', '~'}},
	{"backslash", KEY_BACKSLASH, {'\\', '|'}},
	{"comma", KEY_COMMA, {',', '<'}},
	{"dot", KEY_DOT, {'.', '>'}},
	{"slash", KEY_SLASH, {'/', '?'}},
	{"space", KEY_SPACE, {' ', 0}},
	{"enter", KEY_ENTER, {XK_Return, XK_KP_Enter}},
	{"backspace", KEY_BACKSPACE, {XK_BackSpace, 0}},
	{"tab", KEY_TAB, {XK_Tab, 0}},
	{"esc", KEY_ESC, {XK_Escape, 0}},
	{"delete", KEY_DELETE, {XK_Delete, 0}},
	{"insert", KEY_INSERT, {XK_Insert, 0}},
	{"home", KEY_HOME, {XK_Home, 0}},
	{"end", KEY_END, {XK_End, 0}},
	{"pageup", KEY_PAGEUP, {XK_Page_Up, 0}},
	{"pagedown", KEY_PAGEDOWN, {XK_Page_Down, 0}},
	{"left", KEY_LEFT, {XK_Left, 0}},
	{"right", KEY_RIGHT, {XK_Right, 0}},
	{"up", KEY_UP, {XK_Up, 0}},
	{"down", KEY_DOWN, {XK_Down, 0}},
	{"leftshift", KEY_LEFTSHIFT, {XK_Shift_L, 0}},
	{"rightshift", KEY_RIGHTSHIFT, {XK_Shift_R, 0}},
	{"leftctrl", KEY_LEFTCTRL, {XK_Control_L, 0}},
	{"rightctrl", KEY_RIGHTCTRL, {XK_Control_R, 0}},
	{"leftalt", KEY_LEFTALT, {XK_Alt_L, XK_Meta_L}},
	{"rightalt", KEY_RIGHTALT, {XK_Alt_R, XK_Meta_R}},
	{"leftmeta", KEY_LEFTMETA, {XK_Super_L, 0}},
	{"rightmeta", KEY_RIGHTMETA, {XK_Super_R, 0}},
	{"capslock", KEY_CAPSLOCK, {XK_Caps_Lock, 0}},
	{"menu", KEY_MENU, {XK_Menu, 0}},
	{"f1", KEY_F1, {XK_F1, 0}},
	{"f2", KEY_F2, {XK_F2, 0}},
	{"f3", KEY_F3, {XK_F3, 0}},
	{"f4", KEY_F4, {XK_F4, 0}},
	{"f5", KEY_F5, {XK_F5, 0}},
	{"f6", KEY_F6, {XK_F6, 0}},
	{"f7", KEY_F7, {XK_F7, 0}},
	{"f8", KEY_F8, {XK_F8, 0}},
	{"f9", KEY_F9, {XK_F9, 0}},
	{"f10", KEY_F10, {XK_F10, 0}},
	{"f11", KEY_F11, {XK_F11, 0}},
	{"f12", KEY_F12, {XK_F12, 0}},
	{"power", KEY_POWER, {XF86_POWER_OFF, 0}},
	{"phone", KEY_PHONE, {XF86_PHONE, 0}},
	{"volumeup", KEY_VOLUMEUP, {XF86_AUDIO_RAISE_VOLUME, 0}},
	{"volumedown", KEY_VOLUMEDOWN, {XF86_AUDIO_LOWER_VOLUME, 0}},
	{"mute", KEY_MUTE, {XF86_AUDIO_MUTE, 0}},
	{"homepage", KEY_HOMEPAGE, {XF86_HOME_PAGE, 0}},
	{"back", KEY_BACK, {XF86_BACK, 0}},
	{"camera", KEY_CAMERA, {0, 0}},
	{"search", KEY_SEARCH, {0, 0}},
};

static const struct {
	const char *name;
	unsigned mod;
} modifiers[] = {
	{"ctrl", KEYMAP_CTRL},
	{"alt", KEYMAP_ALT},
	{"shift", KEYMAP_SHIFT},
	{"meta", KEYMAP_META},
};

unsigned keymap_from_keysym(uint32_t keysym)
{
	if (keysym == 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].keysym[0] == keysym || keys[i].keysym[1] == keysym)
			return keys[i].code;
	return 0;
}

unsigned keymap_from_keysym_shift(uint32_t keysym, int *shift)
{
	*shift = -1;
	if (keysym == 0)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const struct key *k = &keys[i];
		if (k->keysym[0] != keysym && k->keysym[1] != keysym)
			continue;
		/* Only where shift makes another character of the key does it matter. */
		if (k->keysym[0] >= 0x20 && k->keysym[0] < 0x7f && k->keysym[1] >= 0x20 &&
		    k->keysym[1] < 0x7f)
			*shift = k->keysym[1] == keysym;
		return k->code;
	}
	return 0;
}

int keymap_from_char(unsigned char ch, unsigned *code, bool *shift)
{
	uint32_t keysym = ch;

	if (ch == '\n')
		keysym = XK_Return;
	else if (ch == '\t')
		keysym = XK_Tab;
	else if (ch < 0x20 || ch >= 0x7f)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		for (unsigned s = 0; s < 2; s++)
			if (keys[i].keysym[s] == keysym) {
				*code = keys[i].code;
				*shift = s == 1;
				return 0;
			}
	return -EINVAL;
}

bool keymap_untypable(const char *text, size_t len, char *msg, size_t size)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		unsigned code;
		bool shift;
		if (keymap_from_char(ch, &code, &shift) == 0)
			continue;
		if (ch < 0x80) {
			snprintf(
				msg, size,
				"cannot type control character 0x%02x (at byte %zu): a US keyboard "
				"has no key for it",
				ch, i + 1);
			return true;
		}
		/* A UTF-8 sequence: its code point and the character itself. */
		unsigned n = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : 2;
		unsigned long cp = ch & (0x3f >> (n - 1));
		for (unsigned j = 1; j < n && i + j < len; j++)
			cp = cp << 6 | ((unsigned char)text[i + j] & 0x3f);
		snprintf(msg, size,
			 "cannot type U+%04lX '%.*s' (at byte %zu): a US keyboard has no "
			 "key for it",
			 cp, (int)n, text + i, i + 1);
		return true;
	}
	return false;
}

bool keymap_is_letter(unsigned code)
{
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (keys[i].code == code)
			return keys[i].keysym[0] >= 'a' && keys[i].keysym[0] <= 'z';
	return false;
}

unsigned keymap_from_name(const char *name)
{
	if (strncasecmp(name, "KEY_", 4) == 0)
		name += 4;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strcasecmp(keys[i].name, name) == 0)
			return keys[i].code;
	return 0;
}

unsigned keymap_keys(const unsigned **out)
{
	static unsigned codes[ARRAY_SIZE(keys)];

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		codes[i] = keys[i].code;
	*out = codes;
	return ARRAY_SIZE(keys);
}

unsigned keymap_modifier(unsigned key)
{
	switch (key) {
	case KEY_LEFTCTRL:
	case KEY_RIGHTCTRL:
		return KEYMAP_CTRL;
	case KEY_LEFTALT:
	case KEY_RIGHTALT:
		return KEYMAP_ALT;
	case KEY_LEFTSHIFT:
	case KEY_RIGHTSHIFT:
		return KEYMAP_SHIFT;
	case KEY_LEFTMETA:
	case KEY_RIGHTMETA:
		return KEYMAP_META;
	default:
		return 0;
	}
}

int keymap_parse_chord(const char *text, struct key_chord *chord)
{
	char buf[64], *part, *save = NULL;
	struct key_chord c = {0};

	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", text);
	for (part = strtok_r(buf, "+", &save); part; part = strtok_r(NULL, "+", &save)) {
		unsigned mod = 0;
		if (c.key) /* the key comes last */
			return -EINVAL;
		for (size_t i = 0; i < ARRAY_SIZE(modifiers); i++)
			if (strcasecmp(part, modifiers[i].name) == 0)
				mod = modifiers[i].mod;
		if (mod) {
			if (c.mods & mod)
				return -EINVAL;
			c.mods |= mod;
			continue;
		}
		if (!(c.key = keymap_from_name(part)) || keymap_modifier(c.key))
			return -EINVAL;
	}
	if (!c.key || !c.mods || text[0] == '+' || text[strlen(text) - 1] == '+' ||
	    strstr(text, "++"))
		return -EINVAL;
	*chord = c;
	return 0;
}
