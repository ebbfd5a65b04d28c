/* Brings GLib (glib-2.0 through pkg-config) into Swift. */
#include <glib.h>
