package org.userimport

import java.io.File
import java.nio.file.Files
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** Host implementations in Kotlin: Directory, UserStore, rules; the SQLite store; callback failures. */
class HostsTest {
    private val importer = Fixtures.importer()
    private fun options(policy: ErrorPolicy, fileName: String? = null, comment: String? = null) =
        ApplyOptions(policy = policy, fileName = fileName, comment = comment, passwordHashing = Fixtures.fastHashing)

    @Test
    fun aCheckReportsWhatAValidationReportsWithoutKeepingRecords() {
        val existing = listOf(Fixtures.user("user4", "user4@example.com"), Fixtures.user("owner", "user7@example.com"))
        val directory = MapDirectory(existing)
        val upload = Fixtures.upload(3000) + "Dup,Row,USER1,dup@example.com,Viewer\nBad,Mail,bad,bad@,Viewer\n".toByteArray()
        val validated = importer.validateBytes(upload, directory).report()
        val checked = importer.checkBytes(upload, directory)
        assertEquals(validated.toJson(), checked.toJson())
        assertEquals(listOf(3002uL, 2999uL, 3uL), checked.summary().let { listOf(it.rows, it.valid, it.invalid) })
        val codes = checked.issues(0uL, 100uL).map { it.code }.toSet()
        assertTrue(codes.containsAll(listOf("duplicate_in_file", "exists_in_directory", "invalid_email")), "$codes")
        assertEquals(importer.validatePath(Fixtures.usersCsv).report().toJson(), importer.checkPath(Fixtures.usersCsv).toJson())
        val token = CancelToken()
        token.cancel()
        assertFailsWith<UserImportException.Cancelled> { importer.checkBytes(upload, cancel = token) }
    }

    @Test
    fun aKotlinDirectoryIsAskedInBatches() {
        val existing = (0 until 3000 step 2).map { Fixtures.user("user$it", "user$it@example.com", listOf("Viewer")) }
        val directory = MapDirectory(existing)
        val summary = importer.planBytes(Fixtures.upload(3000), directory).summary()
        assertEquals(1500uL, summary.create)
        assertEquals(1500uL, summary.update + summary.unchanged)
        assertTrue(directory.calls.size in 1..20, "${directory.calls}")
        assertTrue(directory.calls.maxOf { it.second } >= 1000)
    }

    @Test
    fun aDryRunListsItsUpdatesWithoutPagingThroughEveryRow() {
        val existing = (0 until 3000 step 2).map { Fixtures.user("user$it", "user$it@example.com", listOf("Viewer")) }
        val plan = importer.planBytes(Fixtures.upload(3000), MapDirectory(existing))
        val expected = plan.rows(0uL, 5000uL).filter { it.action == Action.UPDATE }
        assertEquals(plan.summary().update, expected.size.toULong())
        assertTrue(expected.isNotEmpty() && expected.all { it.changes.isNotEmpty() })
        assertEquals(expected, plan.updates(0uL, 5000uL))
        assertEquals(expected.subList(10, 13), plan.updates(10uL, 3uL))
        assertEquals(emptyList(), plan.updates(expected.size.toULong(), 10uL))
    }

    @Test
    fun badDirectoryUsersAreRefused() {
        val badZone = object : MapDirectory() {
            override fun findByLogins(logins: List<String>) = listOf(Fixtures.user("ada", timezone = "Mars/Olympus"))
        }
        val err = assertFailsWith<UserImportException.Directory> { importer.validatePath(Fixtures.usersCsv, badZone) }
        assertTrue("'Mars/Olympus' is not an IANA time zone" in err.detail)
        val plain = object : MapDirectory() {
            override fun findByLogins(logins: List<String>) = listOf(Fixtures.user("ada").copy(passwordHash = "hunter2"))
        }
        val refused = assertFailsWith<UserImportException.Directory> { importer.validatePath(Fixtures.usersCsv, plain) }
        assertTrue("not a password hash" in refused.detail && "hunter2" !in refused.detail)
    }

    @Test
    fun everyKindOfValueCrossesPacked() {
        val ada = Fixtures.user("ada", "ada@example.com", listOf("Admin"), "Europe/Paris").copy(
            firstName = "Ada \"the\" \\first\\", lastName = "Lovelace\tÉ😀\u2028\u0001", hqRole = HqRole.ADMIN,
            groups = listOf("Sales", "Ops"), reference = "10045", status = Status.EXPIRED,
            products = mapOf("hire" to ProductAccess.Role("Recruiter"), "pay" to ProductAccess.Granted, "old" to ProductAccess.NoAccess),
            custom = mapOf("hiredOn" to CustomValue.Date("2020-01-01"), "remote" to CustomValue.Boolean(true),
                "size" to CustomValue.Number(4.5), "big" to CustomValue.Number(-1e300), "team" to CustomValue.Text("a\nb")))
        val plan = importer.planPath(Fixtures.usersCsv, MapDirectory(listOf(ada)))
        // The file names ada differently and has no status: the rest of what is stored stays.
        val written = plan.writes(0uL, 10uL).first { it.user.login == "ada" }.user
        assertEquals(ada.products, written.products)
        assertEquals(ada.custom, ada.custom.keys.associateWith { written.custom[it] })   // the file adds start_date
        assertEquals(listOf<Any?>("Europe/Paris", HqRole.ADMIN, listOf("Sales", "Ops"), "10045", Status.EXPIRED),
            listOf(written.timezone, written.hqRole, written.groups, written.reference, written.status))
        val old = plan.rows(0uL, 1uL)[0].changes.associate { it.field to it.oldValue }
        assertEquals(ada.firstName to ada.lastName, old["first_name"] to old["last_name"])

        val notANumber = object : MapDirectory() {
            override fun findByLogins(logins: List<String>) = listOf(ada.copy(custom = mapOf("x" to CustomValue.Number(Double.NaN))))
        }
        val err = assertFailsWith<UserImportException.Directory> { importer.validatePath(Fixtures.usersCsv, notANumber) }
        assertTrue("not a finite number" in err.detail, err.detail)
    }

    @Test
    fun directoryExceptionsArriveAsErrors() {
        val down = object : MapDirectory() {
            override fun findByLogins(logins: List<String>): List<User> = throw HostException.Failed("LDAP is down")
        }
        assertTrue("LDAP is down" in assertFailsWith<UserImportException.Directory> { importer.validatePath(Fixtures.usersCsv, down) }.detail)
        val buggy = object : MapDirectory() {
            override fun findByLogins(logins: List<String>): List<User> = throw IllegalStateException("null pointer in the HR system")
        }
        val err = assertFailsWith<UserImportException.Directory> { importer.planPath(Fixtures.usersCsv, buggy) }
        assertTrue("IllegalStateException" in err.detail && "null pointer in the HR system" in err.detail, err.detail)
    }

    @Test
    fun applyToAKotlinStoreWithBothErrorPolicies() {
        val store = MapStore(listOf(Fixtures.user("boss", "boss@example.com")))
        val upload = ("First Name,Last Name,Login Name,E-mail Address,Password,Roles,Superior User\n" +
            "Ada,Lovelace,ada,ada@example.com,Analytical#1,Admin,boss\n" +
            "Grace,Hopper,grace,grace@example.com,,Editor,ada\n" +
            "Bob,Smith,bob,bob@,Secret#Pass9,Viewer,\n" +
            "Cy,Young,cy,cy@example.com,Secret#Pass8,Viewer,bob\n").toByteArray()
        val plan = importer.planBytes(upload, store)
        assertEquals(listOf(Action.CREATE, Action.CREATE, Action.FAIL, Action.FAIL), plan.rows(0uL, 10uL).map { it.action })

        val refused = plan.apply(store, options(ErrorPolicy.ALL_OR_NOTHING))
        assertTrue(refused.refused()!!.contains("all-or-nothing"))
        assertEquals(0uL, refused.summary().created)
        assertEquals(listOf(), store.events)

        val outcome = plan.apply(store, options(ErrorPolicy.CONTINUE_AS_IS, "upload.csv", "first batch"))
        val s = outcome.summary()
        assertEquals(listOf(4uL, 2uL, 2uL), listOf(s.rows, s.created, s.failed))
        assertEquals(s.rows, s.created + s.updated + s.unchanged + s.skipped + s.failed)
        assertNull(outcome.refused())
        assertEquals(listOf("grace"), outcome.invitations())
        assertEquals(listOf(RowResult.CREATED, RowResult.CREATED, RowResult.FAILED, RowResult.FAILED), outcome.rows(0uL, 10uL).map { it.result })
        assertEquals("begin", store.events.first())
        assertEquals("commit", store.events.last())
        val ada = store.users.getValue("ada")
        assertTrue(ada.passwordHash!!.startsWith("\$argon2id\$") && verifyPassword("Analytical#1", ada.passwordHash!!))
        assertEquals(Status.PENDING, store.users.getValue("grace").status)
        assertEquals(listOf(Triple("upload.csv", "first batch", 2uL)), store.log.map { Triple(it.fileName, it.comment, it.created) })

        store.events.clear()
        val again = importer.planBytes(upload, store)
        assertEquals(2uL, again.summary().unchanged)
        assertEquals(2uL, again.apply(store, options(ErrorPolicy.CONTINUE_AS_IS)).summary().unchanged)
        assertEquals(listOf(), store.events)
    }

    @Test
    fun aStoreThatThrowsRollsBackAndTheErrorArrives() {
        val store = MapStore(failOn = "createUsers")
        val err = assertFailsWith<UserImportException.Store> {
            importer.planPath(Fixtures.usersCsv, store).apply(store, options(ErrorPolicy.ALL_OR_NOTHING))
        }
        assertTrue("the database refused createUsers" in err.detail)
        assertEquals(listOf("begin", "addCustomFields", "createUsers", "rollback"), store.events)
        assertTrue(store.users.isEmpty())
        val crashing = object : MapStore() {
            override fun commit() = throw java.io.IOException("disk full")
        }
        val crash = assertFailsWith<UserImportException.Store> {
            importer.planPath(Fixtures.usersCsv, crashing).apply(crashing, options(ErrorPolicy.CONTINUE_AS_IS))
        }
        assertTrue("disk full" in crash.detail)
    }

    @Test
    fun aPlanIsRefusedWhenTheStoreChangedSince() {
        val store = MapStore(listOf(Fixtures.user("ada", "ada@example.com", listOf("Admin"))))
        val plan = importer.planPath(Fixtures.usersCsv, store)
        store.users["grace"] = Fixtures.user("grace", "grace@example.com")
        val err = assertFailsWith<UserImportException.StalePlan> { plan.apply(store, options(ErrorPolicy.CONTINUE_AS_IS)) }
        assertTrue("make the plan again" in err.detail)
        // Checked inside the transaction (another import may commit just before it): nothing written.
        assertEquals(listOf("begin", "rollback"), store.events)
    }

    @Test
    fun theSqliteStoreByPath() {
        val path = File(Files.createTempDirectory("sqlite").toFile(), "users.db").path
        val store = SqliteStore.open(path)
        val opts = options(ErrorPolicy.ALL_OR_NOTHING, comment = "initial")
        assertEquals(5uL, importer.planPath(Fixtures.usersCsv, store.asDirectory()).applySqlite(store, opts).summary().created)
        assertEquals(5uL, store.count())
        val grace = store.get("GRACE")!!
        assertEquals("ada", grace.user.superior)
        assertTrue(verifyPassword("Compiler#2", grace.user.passwordHash!!))
        assertEquals(listOf("grace"), store.search("hopper").map { it.login })
        assertEquals(listOf("initial" to 5uL), store.importLog().map { it.comment to it.created })
        assertTrue(store.deactivate("soren"))

        val reopened = SqliteStore.open(path)
        assertEquals(5uL, importer.planPath(Fixtures.usersCsv, reopened.asDirectory()).summary().unchanged)
        val changed = File(Fixtures.usersCsv).readBytes().toString(Charsets.UTF_8).replace("Hopper", "Hopper-Murray").toByteArray()
        val first = importer.planBytes(changed, reopened.asDirectory())
        val second = importer.planBytes(changed, reopened.asDirectory())
        assertEquals(1uL, first.applySqlite(reopened, opts).summary().updated)
        assertEquals("Hopper-Murray", reopened.get("grace")!!.user.lastName)
        assertFailsWith<UserImportException.StalePlan> { second.applySqlite(reopened, opts) }
        assertFailsWith<UserImportException.Store> { SqliteStore.open(File(path).parent + "/no/such/dir/users.db") }
    }

    @Test
    fun builtInDirectoriesFromAnExport() {
        val export = File(Files.createTempDirectory("export").toFile(), "existing.csv")
        export.writeText("Login,E-mail,First Name,Last Name\nada,ada@example.com,Ada,Byron\n")
        assertEquals(Action.UPDATE, importer.planPath(Fixtures.usersCsv, directoryFromPath(export.path)).rows(0uL, 1uL)[0].action)
        assertFailsWith<UserImportException.InvalidArgument> { memoryDirectory(listOf(Fixtures.user("ada", timezone = "Nowhere/Atlantis"))) }
    }

    @Test
    fun hostRulesAddIssuesAndTheirExceptionsArrive() {
        val houseRules = object : Rule {
            override fun checkRow(record: ValidRecord): List<RuleIssue> =
                if (record.user.reference == "10049") listOf(RuleIssue(code = "custom:reserved_reference",
                    message = "10049 is reserved", severity = Severity.ERROR, field = "reference")) else listOf()

            override fun checkTable(records: List<ValidRecord>): List<RuleIssue> =
                records.filter { "Admin" in it.user.roles }.drop(1).map {
                    RuleIssue(code = "too_many_admins", message = "at most 1 admin per file",
                        severity = Severity.WARNING, row = it.row, field = "roles")
                }
        }
        val validation = Fixtures.importer().withRule(houseRules).validatePath(Fixtures.usersCsv)
        val issues = validation.issues(0uL, 10uL).map { listOf(it.row, it.code, it.severity, it.column) }
        assertTrue(listOf(6uL, "custom:reserved_reference", Severity.ERROR, "Employee ID") in issues, "$issues")
        assertTrue(listOf(3uL, "custom:too_many_admins", Severity.WARNING, "Roles") in issues, "$issues")
        val raising = object : Rule {
            override fun checkRow(record: ValidRecord): List<RuleIssue> = throw UnsupportedOperationException("rule engine offline")
            override fun checkTable(records: List<ValidRecord>): List<RuleIssue> = listOf()
        }
        val err = assertFailsWith<UserImportException.Callback> { Fixtures.importer().withRule(raising).validatePath(Fixtures.usersCsv) }
        assertTrue("rule engine offline" in err.detail)
    }
}
