/*
 * A kiosk whose hold reply is lost (C door), for scripts/chaos.sh.
 *
 *   DATABASE_URL=... lost_reply SHOW KEY SEAT...      prints the hold id on stdout
 *   DATABASE_URL=... lost_reply --crash SHOW KEY SEAT... holds, then dies (abort) before
 *                                                     anything is printed: the reply is lost
 *
 * The first form is the retry a restarted kiosk makes with the same request key; the
 * caller checks it gets the hold the crashed run made, and that only one hold exists.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seatcore.h"

int main(int argc, char **argv) {
    const char *url = getenv("DATABASE_URL");
    int crash = argc > 1 && strcmp(argv[1], "--crash") == 0;
    int first = crash ? 2 : 1;
    seatcore_client *client = NULL;
    seatcore_hold *hold = NULL;
    seatcore_seats seats;
    seatcore_error *err = NULL;
    seatcore_result rc;

    if (url == NULL || argc < first + 3) {
        fprintf(stderr, "usage: DATABASE_URL=... lost_reply [--crash] SHOW KEY SEAT...\n");
        return 2;
    }
    rc = seatcore_client_new(url, NULL, &client, &err);
    if (rc != SEATCORE_OK) {
        fprintf(stderr, "lost_reply: connect: %s\n", err->message);
        seatcore_error_free(err);
        return 1;
    }
    seats.ids = (const char *const *)&argv[first + 2];
    seats.count = (size_t)(argc - first - 2);
    rc = seatcore_hold_seats(client, argv[first], seats, 120, argv[first + 1], &hold, &err);
    if (rc != SEATCORE_OK) {
        fprintf(stderr, "lost_reply: hold: %s (%s)\n", err->message, seatcore_result_name(rc));
        seatcore_error_free(err);
        seatcore_client_free(client);
        return 1;
    }
    if (crash) {
        abort(); /* the process dies with the reply unread */
    }
    printf("%s\n", hold->id);
    seatcore_hold_free(hold);
    seatcore_client_free(client);
    return 0;
}
