/* The release of Cells, set by the Makefile (VERSION) for every program it builds. */
#ifndef CELLS_VERSION_H
#define CELLS_VERSION_H

#ifndef CELLS_VERSION
#define CELLS_VERSION "unknown"
#endif

#endif
