// Following a show's changes in C++17 through seatcore.hpp: a Watch sees a seller thread's
// holds, bookings and releases in order, the history pages agree, and a Watch resumed from
// the middle gives exactly the rest.
//
//   DATABASE_URL=postgres://... ./watch_cpp
//
// Exits 1 on any mismatch or failure.
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "seatcore.hpp"

using namespace std::chrono_literals;

int main() {
    const char *url = std::getenv("DATABASE_URL");
    if (url == nullptr || *url == '\0') {
        std::cerr << "watch_cpp: set DATABASE_URL\n";
        return 1;
    }
    try {
        seatcore::Client client(url);
        std::string show = "watch_cpp_" + std::to_string(std::time(nullptr)) + "_" + std::to_string(std::clock());
        std::vector<std::string> seats;
        for (int i = 1; i <= 10; i++) {
            seats.push_back("S" + std::to_string(i));
        }
        client.initialize_show(show, seats);
        seatcore::Watch watch(client, show);  // from now

        // The seller: hold each seat, book every other hold, release the rest.
        std::vector<std::pair<std::string, std::string>> done;  // kind, hold id
        std::thread seller([&] {
            for (std::size_t i = 0; i < seats.size(); i++) {
                seatcore::Hold h = client.hold_seats(show, {seats[i]}, 120);
                done.emplace_back("held", h.id);
                if (i % 2 == 0) {
                    client.book_hold(show, h.id);
                    done.emplace_back("booked", h.id);
                } else {
                    client.release_hold(show, h.id);
                    done.emplace_back("released", h.id);
                }
            }
        });
        std::vector<seatcore::Change> seen;
        while (seen.size() < 2 * seats.size()) {
            std::optional<seatcore::Change> c = watch.next(30s);
            if (!c) {
                std::cerr << "watch_cpp: no change within 30 s\n";
                seller.join();
                return 1;
            }
            std::cout << c->id << ' ' << c->kind << ' ' << c->seat_ids.at(0) << ' ' << c->at << '\n';
            seen.push_back(*c);
        }
        seller.join();
        bool ok = watch.position() == seen.back().id && !watch.next(0ms);
        for (std::size_t i = 0; i < seen.size(); i++) {
            ok = ok && seen[i].kind == done[i].first && seen[i].hold_id == done[i].second &&
                 (i == 0 || seen[i].id > seen[i - 1].id) && seen[i].show_id == show;
            ok = ok && (seen[i].kind == "held") == seen[i].expires_at.has_value();
            ok = ok && (seen[i].kind == "booked") == seen[i].booking_id.has_value();
        }

        // The history, three at a time, has the same changes.
        std::vector<seatcore::Change> log;
        for (std::int64_t after = seen.front().id - 1;;) {
            seatcore::History page = client.history(show, after, std::nullopt, 3);
            if (page.changes.empty()) {
                break;
            }
            log.insert(log.end(), page.changes.begin(), page.changes.end());
            after = page.next;
        }
        ok = ok && log.size() == seen.size();
        for (std::size_t i = 0; ok && i < log.size(); i++) {
            ok = log[i].id == seen[i].id && log[i].kind == seen[i].kind && log[i].at_us == seen[i].at_us;
        }
        // Only the records about one seat: its initialization, hold and booking.
        ok = ok && client.history(show, 0, std::string("S1")).changes.size() == 3;

        // Resumed from the middle: exactly the rest.
        seatcore::Watch resumed(client, show, seen[9].id);
        for (std::size_t i = 10; ok && i < seen.size(); i++) {
            std::optional<seatcore::Change> c = resumed.next(30s);
            ok = c && c->id == seen[i].id;
        }
        ok = ok && !resumed.next(0ms);

        // An unknown show is an error with its code.
        try {
            seatcore::Watch none(client, show + "_none");
            ok = false;
        } catch (const seatcore::Error &e) {
            ok = ok && e.code() == SEATCORE_SHOW_NOT_FOUND;
        }
        seatcore::Audit audit = client.audit(show);
        ok = ok && audit.summary.ok && audit.summary.booked == 5 && audit.summary.held == 0;
        std::cout << seen.size() << " changes in order; history and resumed watch agree: " << (ok ? "OK" : "FAILED")
                  << '\n';
        return ok ? 0 : 1;
    } catch (const seatcore::Error &e) {
        std::cerr << "watch_cpp: " << e.code_name() << ": " << e.what() << '\n';
        return 1;
    }
}
