// The box-office kiosk in C++17 through seatcore.hpp: show the seat map, hold two seats,
// book them, print the booking, and audit the show.
//
//   DATABASE_URL=postgres://... ./kiosk_cpp [show_id]
//
// The show (default "kiosk_demo_cpp") is created with seats A1..E10 when missing; when
// fewer than two seats are left, a fresh show is opened next to it. Exits 1 on any failure.
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <vector>

#include "seatcore.hpp"

namespace {

void ensure_show(const seatcore::Client &client, const std::string &show_id) {
    std::vector<std::string> seats;
    for (char row = 'A'; row <= 'E'; row++) {
        for (int n = 1; n <= 10; n++) {
            seats.push_back(row + std::to_string(n));
        }
    }
    try {
        std::cout << "created show " << show_id << " with " << client.initialize_show(show_id, seats)
                  << " seats\n";
    } catch (const seatcore::Error &e) {
        if (e.code() != SEATCORE_SHOW_EXISTS) {
            throw;
        }
    }
}

// Prints the seat map and returns the first two available seats (fewer if sold out).
std::vector<std::string> print_seat_map(const seatcore::Client &client, const std::string &show_id) {
    seatcore::ShowStatus status = client.seat_status(show_id);
    const seatcore_seat_counts &c = status.counts;
    std::cout << "show " << status.show_id << ": " << c.total << " seats, " << c.available << " available, "
              << c.held << " held, " << c.booked << " booked (invariants "
              << (c.invariants_valid ? "valid" : "BROKEN") << ")";
    if (!c.invariants_valid) {
        throw std::runtime_error("the database reports broken invariants");
    }
    std::vector<std::string> free_seats;
    char row = 0;
    for (const seatcore::Seat &seat : status.seats) {
        if (seat.seat_id[0] != row) {
            row = seat.seat_id[0];
            std::cout << "\n  " << row << " |";
        }
        std::cout << ' '
                  << (seat.state == SEATCORE_SEAT_STATE_AVAILABLE ? '.'
                      : seat.state == SEATCORE_SEAT_STATE_HELD    ? 'h'
                                                                  : 'X');
        if (seat.state == SEATCORE_SEAT_STATE_AVAILABLE && free_seats.size() < 2) {
            free_seats.push_back(seat.seat_id);
        }
    }
    std::cout << '\n';
    return free_seats;
}

}  // namespace

int main(int argc, char **argv) {
    const char *url = std::getenv("DATABASE_URL");
    if (url == nullptr || *url == '\0') {
        std::cerr << "kiosk_cpp: set DATABASE_URL\n";
        return 1;
    }
    std::string base = argc > 1 ? argv[1] : "kiosk_demo_cpp";
    std::string show_id = base;
    try {
        std::cout << "libseatcore " << seatcore_version() << '\n';
        seatcore::Options options;
        options.pool_size = 4;
        // A setting out of range is refused at once, before any connection: no client.
        options.lock_timeout_ms = 0;
        try {
            seatcore::Client refused(url, options);
            std::cerr << "kiosk_cpp: a lock timeout of 0 ms was accepted\n";
            return 1;
        } catch (const seatcore::Error &e) {
            if (e.code() != SEATCORE_CONFIG) {
                throw;
            }
            std::cout << "as expected, " << e.what() << " (" << e.code_name() << ")\n";
        }
        options.lock_timeout_ms = seatcore_options_default().lock_timeout_ms;
        seatcore::Client client(url, options);
        ensure_show(client, show_id);
        std::vector<std::string> picked = print_seat_map(client, show_id);
        if (picked.size() < 2) {
            show_id = base + "_" + std::to_string(std::time(nullptr));
            ensure_show(client, show_id);
            picked = print_seat_map(client, show_id);
        }
        seatcore::Hold hold = client.hold_seats(show_id, picked, 120);
        std::cout << "held " << hold.seat_ids.at(0) << " and " << hold.seat_ids.at(1) << " until " << hold.at
                  << " (hold " << hold.id << ")\n";
        seatcore::Booking booking = client.book_hold(show_id, hold.id);
        std::cout << "booking " << booking.id << " for show " << booking.show_id << " at " << booking.at << ':';
        for (const std::string &seat : booking.seat_ids) {
            std::cout << ' ' << seat;
        }
        std::cout << '\n';
        if (booking.id != hold.id || booking.seat_ids != hold.seat_ids) {
            std::cerr << "kiosk_cpp: the booking does not match the hold\n";
            return 1;
        }
        // The seats are gone now: holding them again must fail with the seats listed.
        try {
            client.hold_seats(show_id, picked, 60);
            std::cerr << "kiosk_cpp: booked seats were held again\n";
            return 1;
        } catch (const seatcore::Error &e) {
            if (e.code() != SEATCORE_SEATS_UNAVAILABLE || e.unavailable_seats().size() != 2) {
                throw;
            }
            std::cout << "as expected, " << e.what() << '\n';
        }
        print_seat_map(client, show_id);
        // The best four together in one row: held, shown, released (the customer declines).
        try {
            seatcore::Hold best = client.hold_best(show_id, 4, 120);
            std::cout << "best four together:";
            for (const std::string &seat : best.seat_ids) {
                std::cout << ' ' << seat;
            }
            std::cout << '\n';
            if (best.seat_ids.size() != 4) {
                std::cerr << "kiosk_cpp: the best-four hold has " << best.seat_ids.size() << " seats\n";
                return 1;
            }
            client.release_hold(show_id, best.id);
        } catch (const seatcore::Error &e) {
            if (e.code() != SEATCORE_NO_ADJACENT_SEATS) {
                throw;
            }
            std::cout << "no four seats together are left\n";
        }
        // A structured map of its own: a premium back row with an accessible aisle seat.
        std::string hall = show_id + "_hall";
        std::vector<seatcore::MapSeat> seats;
        for (int row = 0; row < 3; row++) {
            for (int n = 1; n <= 8; n++) {
                seatcore::MapSeat s;
                s.seat_id = std::string(1, static_cast<char>('A' + row)) + std::to_string(n);
                s.section = "stalls";
                s.row = std::string(1, static_cast<char>('A' + row));
                s.position = n;
                s.category = row == 2 ? "premium" : "standard";
                s.accessible = n == 1;
                seats.push_back(s);
            }
        }
        try {
            client.initialize_map(hall, seats);
        } catch (const seatcore::Error &e) {
            if (e.code() != SEATCORE_SHOW_EXISTS) {
                throw;
            }
        }
        client.block_seats(hall, {"C8"}, "camera");
        seatcore::BestFilters premium_access;
        premium_access.category = "premium";
        premium_access.accessible = true;
        try {
            seatcore::Hold wheelchair = client.hold_best(hall, 1, 60, premium_access);
            std::cout << "accessible premium seat: " << wheelchair.seat_ids.at(0) << '\n';
            client.release_hold(hall, wheelchair.id);
        } catch (const seatcore::Error &e) {
            if (e.code() != SEATCORE_NO_ADJACENT_SEATS) {
                throw;
            }
        }
        std::vector<seatcore::MapSeat> read = client.seat_map(hall);
        if (read.size() != seats.size() || read.at(16).row != std::optional<std::string>("C") ||
            read.at(16).category != "premium" || !read.at(16).accessible) {
            std::cerr << "kiosk_cpp: the seat map did not read back\n";
            return 1;
        }
        client.unblock_seats(hall, {"C8"});
        seatcore::Audit audit = client.audit(show_id);
        const seatcore_audit_summary &found = audit.summary;
        std::cout << "audit of " << show_id << ": " << found.seats << " seats, " << found.held << " held, "
                  << found.booked << " booked, " << found.problem_count << " problems\n";
        for (const std::string &problem : audit.problems) {
            std::cerr << "kiosk_cpp: audit: " << problem << '\n';
        }
        if (!audit.summary.ok) {
            return 1;
        }
    } catch (const seatcore::Error &e) {
        std::cerr << "kiosk_cpp: " << e.what() << " (" << e.code_name() << ")\n";
        return 1;
    } catch (const std::exception &e) {
        std::cerr << "kiosk_cpp: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
