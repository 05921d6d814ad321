/*
 * A client made before fork() works in forked children while the parent's threads keep
 * using it (C99 + POSIX). Run by bindings/c/test.sh (also under valgrind).
 *
 *   DATABASE_URL=postgres://... ./fork
 *
 * The parent opens one client and starts three threads that hold, read and release seats
 * of their own on it, without pause. While they run, it forks four children; each makes 20
 * holds on seats of its own through the inherited client and exits. Every child must finish
 * (a child still running after a minute is killed and fails the test), the parent's threads
 * must go on working after the forks without a single error, and the database must end with
 * exactly the children's holds, the audit finding every invariant kept.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "seatcore.h"

#define THREADS 3
#define THREAD_SEATS 10
#define CHILDREN 4
#define HOLDS_PER_CHILD 20
#define SEATS (THREADS * THREAD_SEATS + CHILDREN * HOLDS_PER_CHILD)

static const seatcore_client *client;
static char show_id[64];
static char names[SEATS][12];

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t progressed = PTHREAD_COND_INITIALIZER;
static long rounds[THREADS];
static long errors;
static int stop;

/* One parent thread: hold one of its seats, read the status, release, again. */
static void *busy(void *arg) {
    int t = (int)(long)arg;
    long n;
    for (n = 0;; n++) {
        const char *seat[1];
        seatcore_hold *hold = NULL;
        seatcore_status *status = NULL;
        seatcore_result rc;
        int quit;

        seat[0] = names[t * THREAD_SEATS + (int)(n % THREAD_SEATS)];
        rc = seatcore_hold_seats(client, show_id, (seatcore_seats){seat, 1}, 60, NULL, &hold, NULL);
        if (rc == SEATCORE_OK) {
            rc = seatcore_seat_status(client, show_id, &status, NULL);
        }
        if (rc == SEATCORE_OK) {
            rc = seatcore_release_hold(client, show_id, hold->id, NULL);
        }
        seatcore_status_free(status);
        seatcore_hold_free(hold);
        pthread_mutex_lock(&lock);
        if (rc != SEATCORE_OK) {
            fprintf(stderr, "fork: parent thread %d: %s\n", t, seatcore_result_name(rc));
            errors++;
        }
        rounds[t]++;
        pthread_cond_broadcast(&progressed);
        quit = stop;
        pthread_mutex_unlock(&lock);
        if (quit) {
            return NULL;
        }
    }
}

/* Waits until every parent thread has done `more` rounds beyond where it is; 0 on time. */
static int wait_rounds(long more) {
    long goal[THREADS];
    struct timespec deadline;
    int t, rc = 0;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&lock);
    for (t = 0; t < THREADS; t++) {
        goal[t] = rounds[t] + more;
    }
    for (t = 0; t < THREADS && rc == 0; t++) {
        while (rounds[t] < goal[t] && rc == 0) {
            rc = pthread_cond_timedwait(&progressed, &lock, &deadline);
        }
    }
    pthread_mutex_unlock(&lock);
    if (rc != 0) {
        fprintf(stderr, "fork: the parent's threads stalled\n");
    }
    return rc;
}

/* A child: its holds through the inherited client. Returns the exit code. */
static int child(int k) {
    int i;
    uint64_t shows = 0;
    for (i = 0; i < HOLDS_PER_CHILD; i++) {
        const char *seat[1];
        seatcore_hold *hold = NULL;
        seatcore_error *err = NULL;
        seat[0] = names[THREADS * THREAD_SEATS + k * HOLDS_PER_CHILD + i];
        if (seatcore_hold_seats(client, show_id, (seatcore_seats){seat, 1}, 600, NULL, &hold, &err) != SEATCORE_OK) {
            fprintf(stderr, "fork: child %d: hold %d: %s\n", k, i, err->message);
            seatcore_error_free(err);
            return 1;
        }
        seatcore_hold_free(hold);
    }
    if (seatcore_health(client, &shows, NULL) != SEATCORE_OK || shows < 1) {
        fprintf(stderr, "fork: child %d: health failed\n", k);
        return 1;
    }
    return 0;
}

/* Waits for every child, a minute in all; a child still running then is killed. */
static int reap(pid_t *pids) {
    struct timespec pause = {0, 10 * 1000 * 1000};
    time_t deadline = time(NULL) + 60;
    int k, failed = 0;
    for (k = 0; k < CHILDREN; k++) {
        int status = 0;
        pid_t done;
        while ((done = waitpid(pids[k], &status, WNOHANG)) == 0 && time(NULL) < deadline) {
            nanosleep(&pause, NULL);
        }
        if (done == 0) {
            fprintf(stderr, "fork: child %d hung: killed\n", k);
            kill(pids[k], SIGKILL);
            waitpid(pids[k], &status, 0);
            failed = 1;
        } else if (done < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "fork: child %d failed (status %d, %s)\n", k, status, done < 0 ? strerror(errno) : "");
            failed = 1;
        }
    }
    return failed;
}

/* The end state: exactly the children's seats held, the audit clean. */
static int check(void) {
    seatcore_status *status = NULL;
    seatcore_audit_report *report = NULL;
    size_t i;
    int failed = 0;
    if (seatcore_seat_status(client, show_id, &status, NULL) != SEATCORE_OK) {
        fprintf(stderr, "fork: status failed\n");
        return 1;
    }
    for (i = 0; i < status->seat_count; i++) {
        const seatcore_seat *seat = &status->seats[i];
        int childs = i >= THREADS * THREAD_SEATS;
        if ((seat->state == SEATCORE_SEAT_STATE_HELD) != childs || seat->state == SEATCORE_SEAT_STATE_BOOKED) {
            fprintf(stderr, "fork: seat %s is %s\n", seat->seat_id, seatcore_seat_state_name(seat->state));
            failed = 1;
        }
    }
    seatcore_status_free(status);
    if (seatcore_audit(client, show_id, &report, NULL) != SEATCORE_OK || !report->summary.ok ||
        report->summary.held != CHILDREN * HOLDS_PER_CHILD) {
        fprintf(stderr, "fork: the audit disagrees\n");
        failed = 1;
    }
    seatcore_audit_free(report);
    return failed;
}

int main(void) {
    const char *url = getenv("DATABASE_URL");
    const char *ids[SEATS];
    seatcore_client *own = NULL;
    seatcore_options options = seatcore_options_default();
    seatcore_error *err = NULL;
    pthread_t threads[THREADS];
    pid_t pids[CHILDREN];
    int i, failed = 0;

    if (url == NULL) {
        fprintf(stderr, "fork: set DATABASE_URL\n");
        return 2;
    }
    snprintf(show_id, sizeof show_id, "fork_%ld_%d", (long)time(NULL), (int)getpid());
    for (i = 0; i < SEATS; i++) {
        snprintf(names[i], sizeof names[i], "S%d", i + 1);
        ids[i] = names[i];
    }
    options.pool_size = 6;
    if (seatcore_client_new(url, &options, &own, &err) != SEATCORE_OK ||
        seatcore_initialize_show(own, show_id, (seatcore_seats){ids, SEATS}, NULL, &err) != SEATCORE_OK) {
        fprintf(stderr, "fork: %s\n", err->message);
        seatcore_error_free(err);
        seatcore_client_free(own);
        return 1;
    }
    client = own;

    for (i = 0; i < THREADS; i++) {
        if (pthread_create(&threads[i], NULL, busy, (void *)(long)i) != 0) {
            fprintf(stderr, "fork: cannot start thread %d\n", i);
            return 1;
        }
    }
    failed |= wait_rounds(10) != 0; /* the parent's threads are at work on the pool */
    for (i = 0; i < CHILDREN; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            _exit(child(i));
        }
        if (pids[i] < 0) {
            fprintf(stderr, "fork: fork failed: %s\n", strerror(errno));
            return 1;
        }
    }
    failed |= reap(pids);
    failed |= wait_rounds(10) != 0; /* and go on working after the forks */
    pthread_mutex_lock(&lock);
    stop = 1;
    pthread_mutex_unlock(&lock);
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    if (errors) {
        fprintf(stderr, "fork: %ld errors in the parent's threads\n", errors);
        failed = 1;
    }
    failed |= check();
    printf("%d children x %d holds through a client made before fork, %ld+%ld+%ld parent rounds: %s\n", CHILDREN,
           HOLDS_PER_CHILD, rounds[0], rounds[1], rounds[2], failed ? "FAILED" : "OK");
    seatcore_client_free(own);
    return failed;
}
