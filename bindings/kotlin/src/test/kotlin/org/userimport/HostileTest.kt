package org.userimport

import java.io.File
import java.nio.file.Files
import kotlin.random.Random
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/**
 * Hostile input across the FFI: garbage bytes, a directory callback that throws and a store
 * callback that throws each end as a Kotlin exception, never as a crash of the JVM (a crash would
 * end the forked test JVM and fail the build).
 */
class HostileTest {
    private val importer = Fixtures.importer()

    @Test
    fun garbageBytesThrowAKotlinException() {
        val png = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 13, 10, 26, 10) + ByteArray(1024) { it.toByte() }
        assertFailsWith<UserImportException.WrongFormat> { importer.validateBytes(png) }
        assertFailsWith<UserImportException.WrongFormat> { importer.validateBytes("%PDF-1.7\n".toByteArray() + ByteArray(1000) { if (it % 2 == 0) 0 else -1 }) }
        assertFailsWith<UserImportException.EmptyFile> { importer.validateBytes(ByteArray(0)) }
        assertFailsWith<UserImportException> { importer.validateBytes("PK\u0003\u0004".toByteArray() + ByteArray(64)) }
        assertFailsWith<UserImportException> { importer.validateBytes(File(Fixtures.data, "users.xlsx").readBytes().copyOf(700)) }
        assertFailsWith<UserImportException> { importer.validateBytes(File(Fixtures.data, "xls_corrupt_header.xls").readBytes()) }
    }

    @Test
    fun randomBytesNeverCrashTheJvm() {
        val random = Random(6)
        var outcomes = 0
        for (size in listOf(1, 7, 64, 512, 4096, 65536)) {
            repeat(10) {
                try {
                    importer.validateBytes(random.nextBytes(size))
                } catch (e: UserImportException) {
                    assertTrue(e.message!!.isNotEmpty())
                }
                outcomes++
            }
        }
        assertEquals(60, outcomes)
    }

    @Test
    fun missingAndUnreadablePathsThrow() {
        val dir = Files.createTempDirectory("hostile").toFile()
        assertTrue("nope.csv" in assertFailsWith<UserImportException.UnreadableFile> { importer.validatePath(File(dir, "nope.csv").path) }.detail)
        assertFailsWith<UserImportException.UnreadableFile> { importer.validatePath(dir.path) }
        assertFailsWith<UserImportException> { importer.validatePath(File(Fixtures.data, "zip_bomb.xlsx").path) }
    }

    @Test
    fun callbacksThatThrowDoNotCrashTheJvm() {
        val raising = object : Directory {
            override fun findByLogins(logins: List<String>): List<User> = throw OutOfMemoryError("directory exploded")
            override fun findByEmails(emails: List<String>): List<User> = throw OutOfMemoryError("directory exploded")
        }
        // A JVM Error (not an Exception) escapes uniffi's glue; JNA logs it and the call still ends
        // as an exception here, with the process intact.
        val err = assertFailsWith<UserImportException.Directory> { importer.validatePath(Fixtures.usersCsv, raising) }
        assertTrue(err.detail.isNotEmpty())
        val store = MapStore(failOn = "commit")
        assertFailsWith<UserImportException.Store> {
            importer.planPath(Fixtures.usersCsv, store).apply(store, ApplyOptions(policy = ErrorPolicy.ALL_OR_NOTHING, passwordHashing = Fixtures.fastHashing))
        }
        // The failed commit is followed by a rollback: no transaction is left open.
        assertEquals(listOf("commit", "rollback"), store.events.takeLast(2))
        assertTrue(store.users.isEmpty(), "nothing was kept")
        // The library still works after all of that.
        assertEquals(5uL, importer.validatePath(Fixtures.usersCsv).summary().valid)
    }
}
