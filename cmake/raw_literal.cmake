# gantry_raw_literal(OUT CONTENT): sets OUT to CONTENT as C++ raw string literals of at most 60000
# characters each (compilers cap a single literal's length; adjacent literals concatenate).
function(gantry_raw_literal out content)
  string(LENGTH "${content}" len)
  set(chunks "")
  set(pos 0)
  while(pos LESS len)
    string(SUBSTRING "${content}" ${pos} 60000 chunk)
    string(APPEND chunks "R\"GANTRYTEXT(${chunk})GANTRYTEXT\"\n")
    math(EXPR pos "${pos} + 60000")
  endwhile()
  set(${out} "${chunks}" PARENT_SCOPE)
endfunction()
