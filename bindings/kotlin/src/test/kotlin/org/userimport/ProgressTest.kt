package org.userimport

import java.util.concurrent.CountDownLatch
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** Progress listeners (a few calls a second), cancellation from another thread, shared importers. */
class ProgressTest {
    private val rows = 60_000
    private val importer = Importer.fromToml("[catalog]\nroles = ['Viewer']")

    /** A directory behind a slow network: every batch takes 10 ms, so a run lasts about a second. */
    private class SlowDirectory : MapDirectory() {
        override fun findByLogins(logins: List<String>): List<User> { Thread.sleep(10); return super.findByLogins(logins) }
        override fun findByEmails(emails: List<String>): List<User> { Thread.sleep(10); return super.findByEmails(emails) }
    }

    private class Recorder(val answer: Boolean = true) : ProgressListener {
        val calls = CopyOnWriteArrayList<Pair<Long, ULong>>()
        val first = CountDownLatch(1)
        override fun rowsRead(rows: ULong): Boolean {
            calls.add(System.nanoTime() to rows)
            first.countDown()
            return answer
        }
    }

    @Test
    fun progressIsToldAFewTimesASecondAndAtTheEnd() {
        val listener = Recorder()
        val started = System.nanoTime()
        val validation = importer.validateBytes(Fixtures.upload(rows), SlowDirectory(), listener)
        val elapsed = (System.nanoTime() - started) / 1e9
        assertEquals(rows.toULong(), validation.summary().rows)
        val counts = listener.calls.map { it.second }
        assertEquals(rows.toULong(), counts.last())
        assertEquals(counts.sorted(), counts)
        assertTrue(counts.size >= 2 && counts.size <= elapsed / 0.2 + 2, "${counts.size} calls in $elapsed s")
        val gaps = listener.calls.dropLast(1).zipWithNext { a, b -> (b.first - a.first) / 1e9 }
        assertTrue(gaps.all { it >= 0.15 }, "$gaps")
    }

    @Test
    fun aListenerThatAnswersFalseCancels() {
        assertFailsWith<UserImportException.Cancelled> { importer.validateBytes(Fixtures.upload(rows), SlowDirectory(), Recorder(false)) }
    }

    @Test
    fun aCancelTokenStopsARunFromAnotherThread() {
        val token = CancelToken()
        val listener = Recorder()
        val pool = Executors.newSingleThreadExecutor()
        val future = pool.submit<Any> {
            try { importer.planBytes(Fixtures.upload(rows), SlowDirectory(), listener, token) } catch (e: UserImportException) { e }
        }
        assertTrue(listener.first.await(10, TimeUnit.SECONDS), "no progress within 10 s")
        token.cancel()
        val result = future.get(20, TimeUnit.SECONDS)
        pool.shutdown()
        assertTrue(result is UserImportException.Cancelled, "$result")
        assertTrue(token.isCancelled())
        assertFailsWith<UserImportException.Cancelled> { importer.validateBytes("Login Name\nada\n".toByteArray(), null, null, token) }
    }

    @Test
    fun aListenerThatThrowsEndsTheRunWithItsMessage() {
        val broken = object : ProgressListener {
            override fun rowsRead(rows: ULong): Boolean = throw ArithmeticException("progress bar went away")
        }
        val err = assertFailsWith<UserImportException.Callback> { importer.validateBytes(Fixtures.upload(rows), SlowDirectory(), broken) }
        assertTrue("progress bar went away" in err.detail)
    }

    @Test
    fun oneImporterServesSeveralThreads() {
        val data = Fixtures.upload(rows)
        val pool = Executors.newFixedThreadPool(4)
        val results = (0 until 8).map { pool.submit<ULong> { importer.validateBytes(data).summary().valid } }.map { it.get(60, TimeUnit.SECONDS) }
        pool.shutdown()
        assertEquals(List(8) { rows.toULong() }, results)
    }
}
