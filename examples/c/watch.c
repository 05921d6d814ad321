/*
 * Watching a show's changes while another thread sells seats (C99 + POSIX threads).
 *
 *   DATABASE_URL=postgres://... ./watch [seats=20]
 *
 * The main thread opens a watch of a fresh show "from now"; a second thread, on the same
 * client, holds each seat in turn, booking every other hold and releasing the rest. The main
 * thread prints each change as it arrives and checks that it saw every change once, in the
 * seller's order. Then it reads the same changes back from the history, page by page, and
 * resumes a watch from the middle of them: exactly the rest comes. It ends with the audit.
 * Exits non-zero on any mismatch.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seatcore.h"

#define MAX_SEATS 200
#define UUID_LEN 37

/* What the seller did, in order: a kind and a hold id per change. */
struct record {
    char kind[16];
    char hold_id[UUID_LEN];
};

struct seller {
    const seatcore_client *client;
    const char *show_id;
    int seats;
    char names[MAX_SEATS][8];
    struct record done[2 * MAX_SEATS];
    int count;
    int failed;
};

static void note(struct seller *s, const char *kind, const char *hold_id) {
    snprintf(s->done[s->count].kind, sizeof s->done[s->count].kind, "%s", kind);
    snprintf(s->done[s->count].hold_id, UUID_LEN, "%s", hold_id);
    s->count++;
}

static void *sell(void *arg) {
    struct seller *s = arg;
    int i;
    for (i = 0; i < s->seats && !s->failed; i++) {
        const char *seat[1];
        seatcore_hold *hold = NULL;
        seatcore_booking *booking = NULL;
        seatcore_error *err = NULL;
        seatcore_result rc;

        seat[0] = s->names[i];
        rc = seatcore_hold_seats(s->client, s->show_id, (seatcore_seats){seat, 1}, 120, NULL, &hold, &err);
        if (rc == SEATCORE_OK) {
            note(s, "held", hold->id);
            if (i % 2 == 0) {
                rc = seatcore_book_hold(s->client, s->show_id, hold->id, &booking, &err);
                if (rc == SEATCORE_OK) {
                    note(s, "booked", hold->id);
                }
            } else {
                rc = seatcore_release_hold(s->client, s->show_id, hold->id, &err);
                if (rc == SEATCORE_OK) {
                    note(s, "released", hold->id);
                }
            }
        }
        if (rc != SEATCORE_OK) {
            fprintf(stderr, "watch: seller: %s (%s)\n", err->message, seatcore_result_name(rc));
            s->failed = 1;
        }
        seatcore_booking_free(booking);
        seatcore_hold_free(hold);
        seatcore_error_free(err);
    }
    return NULL;
}

/* Waits for the watch's next change, at most 30 s; NULL (after a message) when none came. */
static seatcore_change *next_change(seatcore_watch *watch) {
    seatcore_change *change = NULL;
    seatcore_error *err = NULL;
    seatcore_result rc = seatcore_watch_next(watch, 30000, &change, &err);
    if (rc != SEATCORE_OK) {
        fprintf(stderr, "watch: next: %s (%s)\n", err->message, seatcore_result_name(rc));
        seatcore_error_free(err);
        return NULL;
    }
    if (change == NULL) {
        fprintf(stderr, "watch: no change within 30 s\n");
    }
    return change;
}

/* Whether `change` is the seller's `want`-th record. */
static int matches(const seatcore_change *change, const struct record *want) {
    return strcmp(change->kind, want->kind) == 0 && change->hold_id != NULL &&
           strcmp(change->hold_id, want->hold_id) == 0;
}

static int fail(const char *what) {
    fprintf(stderr, "watch: %s\n", what);
    return 1;
}

int main(int argc, char **argv) {
    const char *url = getenv("DATABASE_URL");
    struct seller *s;
    const char *ids[MAX_SEATS];
    char show_id[64];
    seatcore_client *client = NULL;
    seatcore_watch *watch = NULL;
    seatcore_error *err = NULL;
    seatcore_audit_report *report = NULL;
    int64_t *seen_ids;
    int64_t after;
    pthread_t thread;
    int i, n, failed = 0;

    s = calloc(1, sizeof *s);
    seen_ids = calloc(2 * MAX_SEATS, sizeof *seen_ids);
    if (s == NULL || seen_ids == NULL) {
        return fail("out of memory");
    }
    s->seats = argc > 1 ? atoi(argv[1]) : 20;
    if (url == NULL || s->seats < 2 || s->seats > MAX_SEATS) {
        fprintf(stderr, "usage: DATABASE_URL=... watch [seats 2..%d]\n", MAX_SEATS);
        return 2;
    }
    snprintf(show_id, sizeof show_id, "watch_%ld_%d", (long)time(NULL), (int)(clock() % 100000));
    for (i = 0; i < s->seats; i++) {
        snprintf(s->names[i], sizeof s->names[i], "S%d", i + 1);
        ids[i] = s->names[i];
    }
    if (seatcore_client_new(url, NULL, &client, &err) != SEATCORE_OK ||
        seatcore_initialize_show(client, show_id, (seatcore_seats){ids, (size_t)s->seats}, NULL, &err) != SEATCORE_OK ||
        seatcore_watch_open(client, show_id, SEATCORE_FROM_NOW, &watch, &err) != SEATCORE_OK) {
        fprintf(stderr, "watch: %s\n", err->message);
        seatcore_error_free(err);
        seatcore_client_free(client);
        return 1;
    }
    s->client = client;
    s->show_id = show_id;
    printf("watching %s from change %lld\n", show_id, (long long)seatcore_watch_position(watch));
    if (pthread_create(&thread, NULL, sell, s) != 0) {
        return fail("cannot start the seller");
    }

    /* Every hold is followed by its booking or release: two changes per seat. */
    for (n = 0; n < 2 * s->seats; n++) {
        seatcore_change *change = next_change(watch);
        if (change == NULL) {
            failed = 1;
            break;
        }
        if (strcmp(change->show_id, show_id) != 0 || change->seats.count != 1) {
            failed |= fail("a change of another show or of other seats");
        } else {
            printf("  %lld %-8s %s %s at %s\n", (long long)change->id, change->kind, change->seats.ids[0],
                   change->hold_id, change->at);
        }
        seen_ids[n] = change->id;
        if (n > 0 && seen_ids[n] <= seen_ids[n - 1]) {
            failed |= fail("change ids do not grow");
        }
        seatcore_change_free(change);
    }
    pthread_join(thread, NULL);
    failed |= s->failed;
    if (!failed && s->count != 2 * s->seats) {
        failed |= fail("the seller did not finish");
    }

    /* The history has the same changes: compare them with the seller's record, page by page. */
    after = seen_ids[0] - 1;
    for (i = 0; !failed && i < s->count;) {
        seatcore_history_page *page = NULL;
        size_t k;
        if (seatcore_history(client, show_id, after, NULL, 7, &page, &err) != SEATCORE_OK) {
            fprintf(stderr, "watch: history: %s\n", err->message);
            seatcore_error_free(err);
            failed = 1;
            break;
        }
        if (page->count == 0) {
            failed |= fail("the history ended early");
        }
        for (k = 0; k < page->count && i < s->count; k++, i++) {
            const seatcore_change *change = &page->changes[k];
            if (!matches(change, &s->done[i]) || change->id != seen_ids[i]) {
                fprintf(stderr, "watch: change %d is %s %s, the seller did %s %s\n", i, change->kind,
                        change->hold_id ? change->hold_id : "(none)", s->done[i].kind, s->done[i].hold_id);
                failed = 1;
            }
        }
        after = page->next;
        seatcore_history_free(page);
    }
    if (!failed) {
        printf("%d changes, each once, in the seller's order (watch and history agree)\n", s->count);
    }

    /* A watch resumed from the middle gives exactly the rest. */
    seatcore_watch_free(watch);
    watch = NULL;
    if (!failed && seatcore_watch_open(client, show_id, seen_ids[s->count / 2 - 1], &watch, &err) == SEATCORE_OK) {
        for (i = s->count / 2; i < s->count && !failed; i++) {
            seatcore_change *change = next_change(watch);
            if (change == NULL || !matches(change, &s->done[i])) {
                failed |= fail("the resumed watch gave another change");
            }
            seatcore_change_free(change);
        }
        if (!failed) {
            seatcore_change *extra = NULL;
            if (seatcore_watch_next(watch, 0, &extra, NULL) != SEATCORE_OK || extra != NULL) {
                failed |= fail("the resumed watch gave more than the rest");
            }
            seatcore_change_free(extra);
            printf("resumed after change %lld: the other %d changes, no more\n",
                   (long long)seen_ids[s->count / 2 - 1], s->count - s->count / 2);
        }
    } else if (!failed) {
        fprintf(stderr, "watch: reopen: %s\n", err->message);
        seatcore_error_free(err);
        failed = 1;
    }

    if (seatcore_audit(client, show_id, &report, NULL) != SEATCORE_OK || !report->summary.ok ||
        report->summary.booked != (uint64_t)((s->seats + 1) / 2) || report->summary.held != 0) {
        failed |= fail("the audit disagrees");
    }
    seatcore_audit_free(report);
    seatcore_watch_free(watch);
    seatcore_client_free(client);
    free(seen_ids);
    free(s);
    printf("%s\n", failed ? "FAILED" : "OK");
    return failed;
}
