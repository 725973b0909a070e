# Writes OUT, a C file holding every templates/*.html and *.css as a byte array, with a lookup by file name,
# so the binary carries its pages and needs no source tree at run time (src/core/pages.c reads it through
# ts_pages__embedded). Run by add_custom_command with -DTEMPLATES_DIR -DOUT.
file(GLOB files "${TEMPLATES_DIR}/*.html" "${TEMPLATES_DIR}/*.css")
list(SORT files)
set(body "/* generated from templates/ by cmake/embed_templates.cmake: do not edit */\n#include <stddef.h>\n#include <string.h>\n\n")
set(table "")
foreach(f ${files})
    get_filename_component(name ${f} NAME)
    string(MAKE_C_IDENTIFIER "${name}" id)
    file(SIZE ${f} size)
    file(READ ${f} hex HEX)
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
    # NUL-terminated for convenience; the length leaves the NUL out
    string(APPEND body "static const char tmpl_${id}[] = {${bytes}0x00};\n")
    string(APPEND table "    {\"${name}\", tmpl_${id}, ${size}},\n")
endforeach()
string(APPEND body "
static const struct {
    const char *name;
    const char *data;
    size_t len;
} files[] = {
${table}    {NULL, NULL, 0}};

const char *ts_pages__embedded(const char *name, size_t *len);

const char *ts_pages__embedded(const char *name, size_t *len)
{
    for (size_t i = 0; files[i].name != NULL; ++i)
        if (strcmp(files[i].name, name) == 0) {
            *len = files[i].len;
            return files[i].data;
        }
    return NULL;
}
")
file(WRITE ${OUT}.tmp "${body}")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT}.tmp ${OUT})
