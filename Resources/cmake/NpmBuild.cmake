# NpmBuild.cmake - install the web app's npm dependencies when the lock file
# changed, then build it into OUT.   cmake -DSRC=<WebViewer> -DOUT=<dir> -P NpmBuild.cmake
find_program(NPM npm REQUIRED)
set(STAMP "${SRC}/node_modules/.package-lock.json")
if(NOT EXISTS "${STAMP}" OR "${SRC}/package-lock.json" IS_NEWER_THAN "${STAMP}")
  message(STATUS "npm ci in ${SRC}")
  execute_process(COMMAND ${NPM} ci --no-audit --no-fund WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE RC)
  if(NOT RC EQUAL 0)
    message(FATAL_ERROR "npm ci failed (${RC})")
  endif()
endif()
execute_process(COMMAND ${NPM} run build -- --outDir "${OUT}" --emptyOutDir
                WORKING_DIRECTORY "${SRC}" RESULT_VARIABLE RC)
if(NOT RC EQUAL 0)
  message(FATAL_ERROR "npm run build failed (${RC})")
endif()
