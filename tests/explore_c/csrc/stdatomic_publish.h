#include <stdint.h>
typedef struct slot slot;
void slot_init(slot *s);
void slot_post(slot *s, uint64_t price);
int slot_read(slot *s, uint64_t *price);
unsigned slot_bump(slot *s);
