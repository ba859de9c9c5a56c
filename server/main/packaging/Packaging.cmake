# Install layout and the Debian package (cpack -G DEB), included from the
# top-level CMakeLists.txt. docs/OPERATIONS.md, Install.
#
#   cmake --install build --prefix /usr      (DESTDIR=… to stage)
#     PREFIX/bin/sopd, PREFIX/bin/sopctl
#     PREFIX/share/sopsidebar/web            the panel bundle (scripts/web builds it)
#     PREFIX/share/sopsidebar/examples       the example SOPs
#     PREFIX/share/doc/sopsidebar            README.md, OPERATIONS.md
#     PREFIX/lib/systemd/system/sopd.service the hardened unit
#     /etc/sopsidebar/sopd.yaml              the default configuration
#
# The unit and the configuration name PREFIX, which is known only when
# installing (cmake --install --prefix, cpack): they are generated then.

set(SOP_PACKAGING_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SOP_WEB_DIST ${PROJECT_SOURCE_DIR}/plugins/web-panel/dist)
# The system configuration lives in /etc whatever the prefix, where the unit
# looks for it.
set(SOP_CONFIG_DIR /etc/sopsidebar CACHE PATH "where the default sopd.yaml is installed")

# `ninja install` and cpack install what is built instead of building
# everything first (the bench tools, the tests): ctest's packaging tests run
# after the build of sopd and sopctl.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

install(TARGETS sopd sopctl RUNTIME DESTINATION bin)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/examples/sops/ DESTINATION share/sopsidebar/examples
        FILES_MATCHING PATTERN "*.yaml")
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/OPERATIONS.md
        DESTINATION share/doc/sopsidebar)
# The panel bundle is built by npm (scripts/web), not by CMake: refuse to
# install without it rather than ship a sopd whose panel is missing.
install(CODE "
  if(NOT EXISTS \"${SOP_WEB_DIST}/panel/sop-panel.js\")
    message(FATAL_ERROR \"${SOP_WEB_DIST}/panel/sop-panel.js is missing: run scripts/web first\")
  endif()")
install(DIRECTORY ${SOP_WEB_DIST}/ DESTINATION share/sopsidebar/web)
# Generated per install (keyed by DESTDIR and prefix, so that two installs
# at once do not share a file), then installed as install(FILES) would.
install(CODE "
  set(SOP_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  string(MD5 key \"\$ENV{DESTDIR}|\${CMAKE_INSTALL_PREFIX}\")
  set(out \"${PROJECT_BINARY_DIR}/packaging/\${key}\")
  configure_file(\"${SOP_PACKAGING_DIR}/sopd.service.in\" \"\${out}/sopd.service\" @ONLY)
  configure_file(\"${SOP_PACKAGING_DIR}/sopd.yaml.in\" \"\${out}/sopd.yaml\" @ONLY)
  file(INSTALL DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\" TYPE FILE
       FILES \"\${out}/sopd.service\")
  file(INSTALL DESTINATION \"${SOP_CONFIG_DIR}\" TYPE FILE FILES \"\${out}/sopd.yaml\")")

# The .deb: cpack -G DEB in the build dir (or --config build/CPackConfig.cmake).
set(CPACK_PACKAGE_NAME sopsidebar)
set(CPACK_PACKAGE_VENDOR "SOP Sidebar")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "SOP Sidebar server (sopd) and CLI (sopctl): sales SOPs beside the CRM record")
set(CPACK_PACKAGE_CONTACT "SOP Sidebar maintainers <sopsidebar@example.com>")
# Staged with DESTDIR and the final prefix, so that the generated unit and
# configuration name /usr and /etc/sopsidebar lands in /etc.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: the runtime libraries, as dpkg-shlibdeps finds them (dpkg-dev);
# passwd for the sopd user.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The binaries without their debug info (RelWithDebInfo keeps it in the build).
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${SOP_PACKAGING_DIR}/conffiles ${SOP_PACKAGING_DIR}/postinst ${SOP_PACKAGING_DIR}/prerm
    ${SOP_PACKAGING_DIR}/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_GENERATOR DEB)
include(CPack)
