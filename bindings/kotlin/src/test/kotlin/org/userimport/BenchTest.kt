package org.userimport

import kotlin.test.Test

/**
 * The Kotlin side of bindings/bench.sh (not part of `mvn test`): validate the 1,000,000-row
 * benchmark CSV through the bindings, and with a host Directory holding 100,000 existing users.
 *
 *     BENCH_CSV=... BENCH_CONFIG=... BENCH_RUNS=5 mvn -q -Pbench test
 */
class BenchTest {
    /** A host directory: 100,000 users in maps; counts its calls and the time its own lookups take. */
    private class MapLookup(users: List<User>) : Directory {
        val byLogin = users.associateBy { it.login }
        val byEmail = users.associateBy { it.email }
        var calls = 0
        var lookupNanos = 0L
        private fun <T> timed(lookup: () -> T): T {
            val started = System.nanoTime()
            return lookup().also { calls++; lookupNanos += System.nanoTime() - started }
        }
        override fun findByLogins(logins: List<String>): List<User> = timed { logins.mapNotNull { byLogin[it] } }
        override fun findByEmails(emails: List<String>): List<User> = timed { emails.mapNotNull { byEmail[it] } }
    }

    private fun existing(prefix: String) = MapLookup((0 until 100_000).map {
        User(login = prefix + it.toString().padStart(7, '0'), firstName = "First", lastName = "Last",
            status = Status.ACTIVE, email = "existing$it@example.com")
    })

    private fun measure(label: String, runs: Int, run: () -> ULong): Double {
        val times = mutableListOf<Double>()
        var rows = 0uL
        repeat(runs) {
            val started = System.nanoTime()
            rows = run()
            times.add((System.nanoTime() - started) / 1e9)
        }
        times.sort()
        println("kotlin %-42s best %.3f s  median %.3f s  (%d rows, %d runs)".format(label, times.first(), times[runs / 2], rows.toLong(), runs))
        return times[runs / 2]
    }

    @Test
    fun validateTheBenchmarkFile() {
        val csv = System.getenv("BENCH_CSV") ?: error("set BENCH_CSV to the benchmark CSV")
        val config = System.getenv("BENCH_CONFIG") ?: error("set BENCH_CONFIG to bindings/bench/bench_config.toml")
        val runs = System.getenv("BENCH_RUNS")?.toInt() ?: 5
        Importer.fromPath(config).use { importer ->
            // Warm-up: JIT and the page cache.
            importer.validatePath(csv).close()
            val base = measure("validate_path, no existing users", runs) { importer.validatePath(csv).use { it.summary().rows } }
            for ((label, prefix) in listOf("in the file" to "user", "not in it" to "other")) {
                val directory = existing(prefix)
                val median = measure("validate_path, 100k existing ($label)", runs) {
                    importer.validatePath(csv, directory).use { it.summary().rows }
                }
                println("kotlin   host Directory ($label) adds %.3f s (%d batched calls a run; the host's own lookups: %.3f s a run)"
                    .format(median - base, directory.calls / runs, directory.lookupNanos / 1e9 / runs))
            }
        }
    }
}
