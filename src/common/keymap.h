/* Keys by their names: X keysyms (what a VNC client sends) and the names a user writes
 * (`cellsd --switch-keys ctrl+alt+right,ctrl+alt+left`) to Linux key codes, and the set
 * of keys the VP's keyboard has. */
#ifndef CELLS_DEVICES_KEYMAP_H
#define CELLS_DEVICES_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Linux key code (KEY_*) for an X keysym; 0 for one the keyboard does not have. */
unsigned keymap_from_keysym(uint32_t keysym);

/* What a keysym types: its key code (0: none), and in *SHIFT whether shift must be down (1)
 * or up (0) for it, or does not matter (-1): a printable ASCII keysym of a key that types
 * another character shifted (a letter, a digit, a symbol) says 0 or 1. */
unsigned keymap_from_keysym_shift(uint32_t keysym, int *shift);

/* How a US keyboard types CH (printable ASCII, '\n' as Enter, '\t' as Tab): its key code
 * and whether with shift. 0, or -EINVAL for a character it cannot type. */
int keymap_from_char(unsigned char ch, unsigned *code, bool *shift);

/* The first character of TEXT (LEN bytes) that keymap_from_char cannot type, described in
 * MSG (SIZE bytes); false if none. TEXT is valid UTF-8 (jansson's strings are). */
bool keymap_untypable(const char *text, size_t len, char *msg, size_t size);

/* Whether a key types a letter. */
bool keymap_is_letter(unsigned code);

/* The key code for a name: "a", "7", "right", "f5", "home", "power", "volumeup", ...
 * (case-insensitive), or "KEY_..." as in linux/input-event-codes.h; 0 if unknown. */
unsigned keymap_from_name(const char *name);

/* Every key the VP's keyboard device has; returns their number. */
unsigned keymap_keys(const unsigned **keys);

/* Modifiers of a chord, as bits. */
#define KEYMAP_CTRL  1u
#define KEYMAP_ALT   2u
#define KEYMAP_SHIFT 4u
#define KEYMAP_META  8u

struct key_chord {
	unsigned mods; /* KEYMAP_* bits */
	unsigned key;  /* KEY_* */
};

/* "ctrl+alt+right" -> a chord. -EINVAL for junk, an unknown key or no modifier (a chord
 * must not take a key from every VP). */
int keymap_parse_chord(const char *text, struct key_chord *chord);

/* Which KEYMAP_* modifier a key is (0: none). */
unsigned keymap_modifier(unsigned key);

#endif
