/* Brings GLib and GIO (gio-2.0 through pkg-config) into Swift. */
#include <glib.h>
#include <gio/gio.h>
