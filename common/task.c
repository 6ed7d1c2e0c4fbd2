/*
 * common/task.c - status names and task_name derivation (see task.h).
 */
#include "common/task.h"

#include <string.h>
#include <strings.h>

#define HT_X_NAME(id, name) name,
static const char *const status_names[] = { HT_TASK_STATUS_LIST(HT_X_NAME) };
#undef HT_X_NAME

const char *
ht_task_status_name(ht_task_status s)
{
    if ((unsigned) s >= HT_TASK_STATUS_COUNT)
        return "unknown";
    return status_names[s];
}

int
ht_task_status_parse(const char *s, ht_task_status *out)
{
    for (int i = 0; i < HT_TASK_STATUS_COUNT; i++)
        if (strcasecmp(s, status_names[i]) == 0) {
            *out = (ht_task_status) i;
            return 0;
        }
    if (strcasecmp(s, "unknown") == 0) {
        *out = HT_TASK_STATUS_COUNT;
        return 0;
    }
    return -1;
}

int
ht_task_status_is_final(ht_task_status s)
{
    return s == HT_TASK_SUCCESS || s == HT_TASK_CANCELLED || s == HT_TASK_FAILED;
}

const char *
ht_task_status_list_text(void)
{
    /* HugeGraph prints its enum names; UNKNOWN is accepted as a filter. */
    return "[UNKNOWN, NEW, SCHEDULING, SCHEDULED, QUEUED, RESTORING, RUNNING, "
           "SUCCESS, CANCELLING, CANCELLED, FAILED, HANGING, DELETING]";
}

size_t
ht_task_name_len(const char *script, size_t max)
{
    size_t n = strcspn(script, "\r\n");

    if (n <= max)
        return n;
    n = max;
    /* Step back over continuation bytes (10xxxxxx) to a character start,
     * then drop that start byte too if its character does not fit. */
    size_t start = n;
    while (start > 0 && ((unsigned char) script[start] & 0xC0) == 0x80)
        start--;
    return start;
}
