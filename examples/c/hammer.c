/*
 * Many kiosks hammering one show through one shared client (C99 + POSIX threads).
 *
 *   DATABASE_URL=postgres://... ./hammer [threads=8] [holds_per_thread=50] [seats=200]
 *
 * Each thread repeatedly holds two random seats; every fourth granted hold is booked, the
 * others are released. The threads record every grant; afterwards the program checks that
 * no seat was ever granted to two live holds or booked twice, that the database's counts
 * add up to what the threads saw, and that the database's own audit (seatcore_audit) finds
 * every invariant kept. Prints holds/s. Exits non-zero on any violation.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seatcore.h"

#define ID_LEN 16

struct shared {
    const seatcore_client *client;
    char show_id[64];
    int seats;
    int holds_per_thread;
    char (*names)[ID_LEN];
    pthread_mutex_t lock;
    int *held_by;   /* thread holding each seat per the threads' records, or -1 */
    int *booked_by; /* thread that booked each seat, or -1 */
    long granted, refused, booked, released, violations, errors;
};

struct worker {
    struct shared *s;
    int id;
    unsigned long long rng;
};

static unsigned next_random(unsigned long long *state) {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return (unsigned)(*state >> 11);
}

static int seat_index(const char *seat_id) {
    return atoi(seat_id + 1) - 1; /* "S<n>" */
}

static void violation(struct shared *s, const char *what, const char *seat_id) {
    fprintf(stderr, "hammer: VIOLATION: %s (seat %s)\n", what, seat_id);
    s->violations++;
}

/* Adds one to a counter of the threads' records. */
static void count(struct shared *s, long *counter) {
    pthread_mutex_lock(&s->lock);
    (*counter)++;
    pthread_mutex_unlock(&s->lock);
}

/* Records that thread `id` holds a seat it was granted, which no other live hold or booking
 * may have. Called with the lock held. */
static void record_held(struct shared *s, int id, const char *seat_id) {
    int k = seat_index(seat_id);
    if (s->held_by[k] != -1) {
        violation(s, "seat granted while another live hold has it", seat_id);
    }
    if (s->booked_by[k] != -1) {
        violation(s, "booked seat granted to a hold", seat_id);
    }
    s->held_by[k] = id;
}

/* Records that thread `id` booked a seat of its hold, which no booking may have. Called with
 * the lock held. */
static void record_booked(struct shared *s, int id, const char *seat_id) {
    int k = seat_index(seat_id);
    if (s->booked_by[k] != -1) {
        violation(s, "seat booked twice", seat_id);
    }
    s->booked_by[k] = id;
    s->held_by[k] = -1;
}

static void *work(void *arg) {
    struct worker *w = arg;
    struct shared *s = w->s;
    int n;
    for (n = 0; n < s->holds_per_thread; n++) {
        const char *pick[2];
        int a = (int)(next_random(&w->rng) % (unsigned)s->seats);
        int b = (int)(next_random(&w->rng) % (unsigned)(s->seats - 1));
        seatcore_hold *hold = NULL;
        seatcore_error *err = NULL;
        seatcore_result rc;
        size_t i;

        if (b >= a) {
            b++;
        }
        pick[0] = s->names[a];
        pick[1] = s->names[b];
        rc = seatcore_hold_seats(s->client, s->show_id, (seatcore_seats){pick, 2}, 300, NULL, &hold, &err);
        if (rc == SEATCORE_SEATS_UNAVAILABLE) {
            count(s, &s->refused);
            seatcore_error_free(err);
            continue;
        }
        if (rc != SEATCORE_OK) {
            fprintf(stderr, "hammer: hold: %s (%s)\n", err->message, seatcore_result_name(rc));
            seatcore_error_free(err);
            count(s, &s->errors);
            continue;
        }
        pthread_mutex_lock(&s->lock);
        s->granted++;
        for (i = 0; i < hold->seats.count; i++) {
            record_held(s, w->id, hold->seats.ids[i]);
        }
        pthread_mutex_unlock(&s->lock);

        if (n % 4 == 0) {
            seatcore_booking *booking = NULL;
            rc = seatcore_book_hold(s->client, s->show_id, hold->id, &booking, &err);
            pthread_mutex_lock(&s->lock);
            if (rc == SEATCORE_OK) {
                s->booked++;
                for (i = 0; i < booking->seats.count; i++) {
                    record_booked(s, w->id, booking->seats.ids[i]);
                }
            } else {
                fprintf(stderr, "hammer: book: %s\n", err->message);
                s->errors++;
            }
            pthread_mutex_unlock(&s->lock);
            seatcore_booking_free(booking);
        } else {
            /* Forget the grant before releasing: once the release commits, another thread
             * may be granted these seats at once. */
            pthread_mutex_lock(&s->lock);
            for (i = 0; i < hold->seats.count; i++) {
                s->held_by[seat_index(hold->seats.ids[i])] = -1;
            }
            pthread_mutex_unlock(&s->lock);
            rc = seatcore_release_hold(s->client, s->show_id, hold->id, &err);
            pthread_mutex_lock(&s->lock);
            if (rc == SEATCORE_OK) {
                s->released++;
            } else {
                fprintf(stderr, "hammer: release: %s\n", err->message);
                s->errors++;
            }
            pthread_mutex_unlock(&s->lock);
        }
        seatcore_error_free(err);
        seatcore_hold_free(hold);
    }
    return NULL;
}

/* Audits the show: every invariant of its rows must hold. */
static int audit(struct shared *s) {
    seatcore_audit_report *report = NULL;
    seatcore_error *err = NULL;
    seatcore_result rc = seatcore_audit(s->client, s->show_id, &report, &err);
    size_t i;
    int bad;

    if (rc != SEATCORE_OK) {
        fprintf(stderr, "hammer: audit: %s\n", err->message);
        seatcore_error_free(err);
        return 1;
    }
    printf("audit: %llu seats, %llu held, %llu booked, %llu problems\n", (unsigned long long)report->summary.seats,
           (unsigned long long)report->summary.held, (unsigned long long)report->summary.booked,
           (unsigned long long)report->summary.problem_count);
    for (i = 0; i < report->problems_listed; i++) {
        fprintf(stderr, "hammer: audit: %s\n", report->problems[i]);
    }
    bad = !report->summary.ok || report->summary.seats != (unsigned long long)s->seats ||
          report->summary.booked != 2ULL * (unsigned long long)s->booked;
    seatcore_audit_free(report);
    return bad;
}

/* Compares the database's view with the threads' records. */
static int check(struct shared *s) {
    seatcore_status *status = NULL;
    seatcore_error *err = NULL;
    seatcore_seat_counts counts;
    seatcore_result rc;
    long booked_seats = 0;
    size_t i;
    int bad = 0;

    rc = seatcore_seat_status(s->client, s->show_id, &status, &err);
    if (rc != SEATCORE_OK) {
        fprintf(stderr, "hammer: status: %s\n", err->message);
        seatcore_error_free(err);
        return 1;
    }
    counts = status->counts;
    for (i = 0; i < status->seat_count; i++) {
        const seatcore_seat *seat = &status->seats[i];
        int k = seat_index(seat->seat_id);
        if ((seat->state == SEATCORE_SEAT_STATE_BOOKED) != (s->booked_by[k] != -1)) {
            fprintf(stderr, "hammer: seat %s is %s in the database but the threads say otherwise\n",
                    seat->seat_id, seatcore_seat_state_name(seat->state));
            bad = 1;
        }
        booked_seats += s->booked_by[k] != -1;
    }
    printf("database: %llu seats = %llu available + %llu held + %llu booked; invariants %s\n",
           (unsigned long long)counts.total, (unsigned long long)counts.available,
           (unsigned long long)counts.held, (unsigned long long)counts.booked,
           counts.invariants_valid ? "valid" : "BROKEN");
    if (!counts.invariants_valid || counts.total != (unsigned long long)s->seats ||
        counts.available + counts.held + counts.booked != counts.total || counts.held != 0 ||
        counts.booked != (unsigned long long)booked_seats ||
        counts.booked != 2ULL * (unsigned long long)s->booked) {
        fprintf(stderr, "hammer: the counts do not add up (threads booked %ld holds, %ld seats)\n",
                s->booked, booked_seats);
        bad = 1;
    }
    seatcore_status_free(status);
    return bad;
}

int main(int argc, char **argv) {
    const char *url = getenv("DATABASE_URL");
    int threads = argc > 1 ? atoi(argv[1]) : 8;
    struct shared s;
    struct worker *workers;
    pthread_t *tids;
    const char **ids;
    seatcore_client *client = NULL;
    seatcore_options options = seatcore_options_default();
    seatcore_error *err = NULL;
    seatcore_result rc;
    struct timespec t0, t1;
    double secs;
    int i, failed = 0;

    memset(&s, 0, sizeof s);
    s.holds_per_thread = argc > 2 ? atoi(argv[2]) : 50;
    s.seats = argc > 3 ? atoi(argv[3]) : 200;
    if (url == NULL || threads < 1 || s.holds_per_thread < 1 || s.seats < 2 ||
        s.seats > 100000) {
        fprintf(stderr, "usage: DATABASE_URL=... hammer [threads] [holds_per_thread] [seats 2..100000]\n");
        return 2;
    }
    snprintf(s.show_id, sizeof s.show_id, "hammer_%ld_%d", (long)time(NULL), (int)(clock() % 100000));

    options.pool_size = (uint32_t)threads;
    rc = seatcore_client_new(url, &options, &client, &err);
    if (rc != SEATCORE_OK) {
        /* one connection per thread: the pool's range bounds the threads */
        fprintf(stderr, "hammer: cannot open a client: %s (%s)\n", err->message,
                seatcore_result_name(rc));
        seatcore_error_free(err);
        return 1;
    }
    s.client = client;

    s.names = calloc((size_t)s.seats, sizeof *s.names);
    ids = calloc((size_t)s.seats, sizeof *ids);
    s.held_by = malloc((size_t)s.seats * sizeof *s.held_by);
    s.booked_by = malloc((size_t)s.seats * sizeof *s.booked_by);
    workers = calloc((size_t)threads, sizeof *workers);
    tids = calloc((size_t)threads, sizeof *tids);
    if (!s.names || !ids || !s.held_by || !s.booked_by || !workers || !tids) {
        fprintf(stderr, "hammer: out of memory\n");
        return 1;
    }
    for (i = 0; i < s.seats; i++) {
        sprintf(s.names[i], "S%d", i + 1);
        ids[i] = s.names[i];
        s.held_by[i] = -1;
        s.booked_by[i] = -1;
    }
    rc = seatcore_initialize_show(client, s.show_id, (seatcore_seats){ids, (size_t)s.seats}, NULL, &err);
    if (rc != SEATCORE_OK) {
        fprintf(stderr, "hammer: initialize: %s\n", err->message);
        seatcore_error_free(err);
        failed = 1;
        goto done;
    }
    pthread_mutex_init(&s.lock, NULL);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < threads; i++) {
        workers[i].s = &s;
        workers[i].id = i;
        workers[i].rng = 0x9E3779B97F4A7C15ULL * (unsigned long long)(i + 1);
        if (pthread_create(&tids[i], NULL, work, &workers[i]) != 0) {
            fprintf(stderr, "hammer: cannot start thread %d\n", i);
            threads = i;
            failed = 1;
            break;
        }
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tids[i], NULL);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    printf("%d threads, %ld hold attempts in %.2f s: %.0f holds/s (%ld granted = %.0f/s, %ld refused), "
           "%ld booked, %ld released, %ld errors\n",
           threads, s.granted + s.refused + s.errors, secs, (double)(s.granted + s.refused) / secs,
           s.granted, (double)s.granted / secs, s.refused, s.booked, s.released, s.errors);
    failed |= check(&s);
    failed |= audit(&s);
    if (s.violations || s.errors) {
        fprintf(stderr, "hammer: %ld violations, %ld errors\n", s.violations, s.errors);
        failed = 1;
    }
    if (s.granted == 0) {
        fprintf(stderr, "hammer: no hold was ever granted\n");
        failed = 1;
    }
    pthread_mutex_destroy(&s.lock);

done:
    seatcore_client_free(client);
    free(s.names);
    free(ids);
    free(s.held_by);
    free(s.booked_by);
    free(workers);
    free(tids);
    printf("%s\n", failed ? "FAILED" : "OK: no seat granted twice, counts add up, the audit finds no problem");
    return failed;
}
