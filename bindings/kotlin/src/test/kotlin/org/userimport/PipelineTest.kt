package org.userimport

import java.io.File
import java.nio.file.Files
import java.util.zip.ZipFile
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The pipeline from Kotlin: parse, map, validate, hierarchy, plan, reports and templates. */
class PipelineTest {
    private val importer = Fixtures.importer()

    @Test
    fun aFixtureFileValidatesWithEveryRowTyped() {
        val validation = importer.validatePath(Fixtures.usersCsv)
        val summary = validation.summary()
        assertEquals(listOf(5uL, 5uL, 0uL, 0uL), listOf(summary.rows, summary.valid, summary.invalid, summary.issues))
        assertTrue(summary.canImport)
        val records = validation.records(0uL, 100uL)
        assertEquals(listOf(2uL, 3uL, 4uL, 5uL, 6uL), records.map { it.row })
        val ada = records[0].user
        assertEquals(listOf("ada", "ada@example.com", "10045"), listOf(ada.login, ada.email, ada.reference))
        assertEquals(listOf("Admin", "Editor"), records[1].user.roles)
        assertEquals("Élodie", records[2].user.firstName)
        assertEquals("00123", records[2].user.reference)
        assertEquals(CustomValue.Date(iso = "2024-01-15"), ada.custom["start_date"])
        assertTrue(records.all { it.user.passwordHash == null })
        val info = validation.sourceInfo()!!
        assertEquals(listOf("CSV", "UTF-8", ",", "1"), listOf(info.format, info.encoding, info.delimiter, info.headerRow.toString()))
    }

    @Test
    fun everyFormatGivesTheSameUsers() {
        val expected = importer.validatePath(Fixtures.usersCsv).records(0uL, 100uL)
        for (name in listOf("users.xlsx", "users.xls", "users.ods", "users_bom.csv", "users_cp1252.csv",
            "users_semicolon.csv", "users_tab.tsv", "users_utf16le.txt", "users_utf16be.csv")) {
            assertEquals(expected, importer.validatePath(File(Fixtures.data, name).path).records(0uL, 100uL), name)
        }
    }

    @Test
    fun badCellsAreIssuesWithRowsColumnsAndCodes() {
        val upload = ("First Name,Last Name,Login Name,E-mail Address,Roles\n" +
            "Ada,Lovelace,ada,ada@example.com,Admin\n" +
            "Bob,Smith,bob,bob@,Admin\n" +
            "Cy,Young,cy,cy@example.com,Admn\n" +
            "Ada,Again,ADA,other@example.com,Viewer\n").toByteArray()
        val validation = importer.validateBytes(upload)
        assertEquals(listOf(4uL, 1uL, 3uL), validation.summary().let { listOf(it.rows, it.valid, it.invalid) })
        val issues = validation.issues(0uL, 100uL)
        val byRow = issues.associateBy { it.row }
        val email = byRow.getValue(3uL)
        assertEquals(listOf("invalid_email", "E-mail Address", "email", "bob@"), listOf(email.code, email.column, email.field, email.value))
        assertEquals(Severity.ERROR, email.severity)
        assertEquals("row 3, column 'E-mail Address': 'bob@' is not an email address", email.description)
        assertEquals("unknown_role", byRow.getValue(4uL).code)
        assertTrue("did you mean 'Admin'" in byRow.getValue(4uL).message)
        assertEquals("duplicate_in_file", byRow.getValue(5uL).code)
        assertEquals(mapOf("invalid_email" to 1uL, "unknown_role" to 1uL, "duplicate_in_file" to 1uL), validation.countsByCode())
        assertEquals(listOf("unknown_role"), validation.issuesForRow(4uL).map { it.code })
        assertEquals(listOf(3uL, 4uL, 5uL), validation.invalidRows(0uL, 10uL))
        assertEquals(listOf(issues[1]), validation.issues(1uL, 1uL))
        assertEquals(listOf(), validation.issues(50uL, 10uL))
    }

    @Test
    fun configsLoadFromTomlJsonAndFilesAndSayWhatIsWrong() {
        val config = ImportConfig.fromToml(Fixtures.USERS_TOML)
        assertEquals(config.toToml(), ImportConfig.fromJson(config.toJson()).toToml())
        assertEquals(Mode.UPSERT, ImportConfig.fromPath(File(Fixtures.examples, "configs/hq.toml").path).mode())
        val err = assertFailsWith<UserImportException.InvalidConfig> { ImportConfig.fromToml("[schema]\nfeilds = []") }
        assertTrue("feilds" in err.detail)
        assertFailsWith<UserImportException.InvalidConfig> { Importer.fromJson("{not json") }
        assertFailsWith<UserImportException.UnreadableFile> { ImportConfig.fromPath(File(Fixtures.examples, "configs/missing.toml").path) }
        val refused = assertFailsWith<UserImportException.InvalidConfig> { config.setMapping("Mail", "product:nope") }
        assertTrue("product 'nope'" in refused.detail)
        assertEquals(mapOf(), config.mapping())
    }

    @Test
    fun mappingOverridesAndCustomFieldsByConfiguration() {
        val config = ImportConfig()
        config.requireFields(listOf("first_name", "last_name", "login"))
        config.setMapping("Handle", "login")
        config.setMapping("#5", null)
        config.addCustomField(CustomFieldSpec(name = "department", kind = CustomKind.ONE_OF, values = listOf("Sales", "R&D")))
        val upload = "First Name,Last Name,Handle,Department,Notes\nAda,Lovelace,ada,Sales,hello\nBob,Smith,bob,Marketing,\n"
        val validation = Importer(config).validateBytes(upload.toByteArray())
        assertEquals(
            mapOf("First Name" to "first_name", "Last Name" to "last_name", "Handle" to "login",
                "Department" to "custom:department", "Notes" to null),
            validation.mapping().associate { it.header to it.target })
        assertEquals(MatchKind.OVERRIDE, validation.mapping()[2].how)
        assertEquals(mapOf("department" to CustomValue.Text(value = "Sales")), validation.records(0uL, 1uL)[0].user.custom)
        val issue = validation.issues(0uL, 10uL).single()
        assertEquals(listOf(3uL, "invalid_value", "custom:department"), listOf(issue.row, issue.code, issue.field))
    }

    @Test
    fun stagesOneByOneWithAMappingEditedByHand() {
        val upload = "First Name,Last Name,Nick,E-mail Address,Roles,Shoe size\nAda,Lovelace,ada,ada@example.com,Admin,38\n".toByteArray()
        val source = importer.openBytes(upload)
        assertEquals(listOf("First Name", "Last Name", "Nick", "E-mail Address", "Roles", "Shoe size"), source.headers())
        val mapping = importer.map(source)
        assertTrue("login" in mapping.missingRequired())
        assertFalse(mapping.isComplete())
        assertEquals(listOf("Nick", "Shoe size"), mapping.customCandidates().map { it.header })
        mapping.set("#3", "login")
        mapping.acceptCustom("Shoe size")
        assertTrue(mapping.isComplete())
        assertFailsWith<UserImportException.InvalidArgument> { mapping.set("No such column", "email") }
        assertFailsWith<UserImportException.InvalidArgument> { mapping.set("Nick", "not_a_field") }
        val saved = mapping.toSaved()
        val fresh = importer.map(importer.openBytes(upload))
        assertTrue(fresh.applySaved(saved))
        assertTrue(fresh.isComplete())
        assertFalse(importer.map(importer.openBytes("a,b\n1,2\n".toByteArray())).applySaved(saved))
        val ada = importer.validateSource(source, mapping).records(0uL, 1uL)[0].user
        assertEquals("ada", ada.login)
        assertEquals(mapOf("Shoe size" to CustomValue.Text(value = "38")), ada.custom)
        val again = assertFailsWith<UserImportException.InvalidArgument> { importer.validateSource(source, mapping) }
        assertTrue("open the file again" in again.detail)
    }

    @Test
    fun hierarchyOrdersSuperiorsFirstAndFlagsCycles() {
        val validation = importer.validatePath(Fixtures.usersCsv)
        val hierarchy = validation.hierarchy()
        val logins = validation.records(0uL, 10uL).map { it.user.login }
        val order = hierarchy.order.map { logins[it.toInt()] }
        assertTrue(order.indexOf("ada") < order.indexOf("grace") && order.indexOf("grace") < order.indexOf("zoe"))
        assertEquals(SuperiorLink.InFile(index = 0uL, row = 2uL), hierarchy.superiors[1])
        val result = resolveHierarchy(listOf(
            HierarchyRow(row = 2uL, login = "a", superior = "b"),
            HierarchyRow(row = 3uL, login = "b", superior = "a"),
            HierarchyRow(row = 4uL, login = "c", superior = "boss"),
            HierarchyRow(row = 5uL, login = "d", superior = "nobody"),
            HierarchyRow(row = 6uL, login = "e", superior = "e"),
        ), listOf("BOSS"))
        assertEquals(listOf(2uL), result.order)
        assertEquals(SuperiorLink.Existing, result.superiors[2])
        assertEquals(
            listOf(2uL to "hierarchy_cycle", 3uL to "hierarchy_cycle", 5uL to "superior_not_found", 6uL to "self_reference"),
            result.issues.map { it.row!! to it.code }.sortedBy { it.first })
        assertEquals(Placement.Flagged, result.placements[3])
    }

    @Test
    fun aPlanPreviewsEveryRowAndPagesThroughThem() {
        val plan = importer.planPath(Fixtures.usersCsv)
        val summary = plan.summary()
        assertEquals(listOf(5uL, 5uL, 0uL, 1uL), listOf(summary.rows, summary.create, summary.fail, summary.invitations))
        val rows = plan.rows(0uL, 100uL)
        assertTrue(rows.all { it.action == Action.CREATE })
        assertEquals(listOf("ada", "grace", "elodie", "soren", "zoe"), rows.map { it.login })
        assertEquals(listOf(rows[3]), plan.rows(3uL, 1uL))
        assertEquals(listOf("soren"), plan.invitations())
        assertEquals(listOf("ada", "grace"), plan.writes(0uL, 2uL).map { it.user.login })
        assertEquals("ada", plan.user(3uL)!!.superior)
        assertNull(plan.user(99uL))
        assertEquals(summary, importer.plan(importer.validatePath(Fixtures.usersCsv)).summary())
    }

    @Test
    fun modesMergeAndGroupRules() {
        val directory = memoryDirectory(listOf(User(login = "ada", firstName = "Ada", lastName = "Byron",
            status = Status.ACTIVE, email = "ada@example.com", roles = listOf("Admin"))))
        val ada = Fixtures.importer().planPath(Fixtures.usersCsv, directory).rows(0uL, 1uL)[0]
        assertEquals(Action.UPDATE, ada.action)
        assertEquals(FieldChange("last_name", "Byron", "Lovelace"), ada.changes.single { it.field == "last_name" })

        val config = ImportConfig.fromToml(Fixtures.USERS_TOML)
        config.setMode(Mode.CREATE_ONLY)
        assertEquals(listOf(2uL to "exists_in_directory"),
            Importer(config).validatePath(Fixtures.usersCsv, directory).issues(0uL, 10uL).map { it.row!! to it.code })
        config.setMode(Mode.UPDATE_ONLY)
        assertEquals(listOf(Action.UPDATE, Action.SKIP, Action.SKIP, Action.SKIP, Action.SKIP),
            Importer(config).planPath(Fixtures.usersCsv, directory).rows(0uL, 10uL).map { it.action })
        config.setMode(Mode.UPSERT)
        config.setMerge(MergePolicy.FILL_EMPTY)
        assertEquals("Byron", Importer(config).planPath(Fixtures.usersCsv, directory).user(2uL)!!.lastName)

        val rules = ImportConfig.fromToml(Fixtures.USERS_TOML)
        rules.setCreateMissingGroups(true)
        rules.addGroupRule("roles", GroupCondition.Equals(value = "Viewer"), "Read only")
        rules.addGroupRule("login", GroupCondition.StartsWith(prefix = "a"), "A team")
        rules.setEveryGroupRule(true)
        assertFailsWith<UserImportException.InvalidConfig> { rules.addGroupRule("login", GroupCondition.Matches(pattern = "(unclosed"), "Broken") }
        val plan = Importer(rules).planPath(Fixtures.usersCsv)
        assertEquals(listOf("A team"), plan.user(2uL)!!.groups)
        assertEquals(listOf("Read only"), plan.user(5uL)!!.groups)
        assertEquals(listOf("A team", "Read only"), plan.groupsToCreate().sorted())
    }

    @Test
    fun loginsFromATemplateWhenTheFileHasNone() {
        val config = ImportConfig()
        config.setLoginTemplate("{first}.{last}")
        val plan = Importer(config).planBytes("First Name,Last Name,Email\nÉlodie,Müller,em@example.com\nAda,Lovelace,ada@example.com\n".toByteArray())
        assertEquals(listOf("elodie.muller", "ada.lovelace"), plan.rows(0uL, 10uL).map { it.login })
    }

    @Test
    fun oneUserFromAFormIsCheckedLikeARow() {
        val check = importer.checkUser(mapOf("first_name" to "Ada", "last_name" to "L", "login" to "ada", "email" to "ada@", "roles" to "Admin"))
        assertNull(check.user)
        assertEquals(listOf<Pair<String, ULong?>>("invalid_email" to null), check.issues.map { it.code to it.row })
        val ok = importer.checkUser(mapOf("first_name" to "Ada", "last_name" to "L", "login" to "ada", "email" to "ada@example.com", "roles" to "admin"))
        assertEquals(listOf("Admin"), ok.user!!.roles)
        assertFailsWith<UserImportException.InvalidArgument> { importer.checkUser(mapOf("shoe_size" to "38")) }
        assertTrue("email" in importer.fields())
    }

    @Test
    fun reportsAsJsonCsvAndXlsx() {
        val dir = Files.createTempDirectory("reports").toFile()
        val source = File(dir, "upload.csv")
        source.writeText("First Name,Last Name,Login Name,E-mail Address,Password,Roles\n" +
            "Ada,Lovelace,ada,ada@example.com,Analytical#1,Admin\n" +
            "Bob,Smith,bob,bob@,Secret#Pass99,=HYPERLINK(1)\n")
        val report = importer.validatePath(source.path).report()
        assertEquals("2 rows: 1 valid, 1 invalid (1 invalid email, 1 unknown role)", report.describe())
        val json = report.toJson()
        assertTrue("\"summary\"" in json && "\"custom_fields\"" in json && "\"invalid_email\"" in json)
        assertEquals(ReportColumn(column = "Login Name", field = "login"), report.mapping()[2])
        val csv = report.toCsv()
        assertEquals("row,column,field,code,severity,message,value", csv.lines()[0])
        assertTrue("'=HYPERLINK(1)" in csv)
        report.writeJson(File(dir, "r.json").path)
        report.writeCsv(File(dir, "r.csv").path)
        report.writeXlsx(source.path, File(dir, "r.xlsx").path)
        val xlsx = ZipFile(File(dir, "r.xlsx")).use { zip ->
            zip.entries().toList().joinToString("") { zip.getInputStream(it).readBytes().toString(Charsets.ISO_8859_1) }
        }
        for (written in listOf(json, csv, xlsx, File(dir, "r.json").readText())) {
            assertFalse("Secret#Pass99" in written || "Analytical#1" in written)
        }
        assertFailsWith<UserImportException.WriteFailed> { report.writeJson(File(dir, "no/such/dir/r.json").path) }
    }

    @Test
    fun templatesFromAConfiguration() {
        val dir = Files.createTempDirectory("templates").toFile()
        val portal = Importer.fromPath(File(Fixtures.examples, "configs/portal.toml").path)
        assertTrue(portal.csvTemplate().startsWith("first name,last name,email,groups,mirror user,status\n"))
        portal.writeXlsxTemplate(File(dir, "t.xlsx").path)
        val validation = portal.validatePath(File(dir, "t.xlsx").path)
        assertEquals(0uL, validation.summary().errors)
        assertEquals(1uL, validation.summary().rows)
        assertFailsWith<UserImportException.WriteFailed> { portal.writeCsvTemplate(File(dir, "missing/t.csv").path) }
    }

    @Test
    fun issueCodesAreTheStableContract() {
        assertTrue(issueCodes().containsAll(listOf("required_missing", "invalid_email", "duplicate_in_file", "wrong_format")))
        assertEquals("'=1+1", neutralize("=1+1"))
    }
}
